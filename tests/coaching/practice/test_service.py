"""Practice sessions in the database, on SQLite and PostgreSQL: one active session per user per
workspace, nothing lost on restart, timeouts, and the user's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.service import (
    AlreadyActive,
    Busy,
    EmptyReply,
    Finished,
    NoActiveSession,
    PracticeSessions,
    Replied,
    Started,
    UnknownScenario,
    UnreadReply,
)
from bot.prompt_files import read_text
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import PracticeTurn, SessionStatus

from .conftest import GOOD_REPLIES

TEAM, OTHER_TEAM, USER, OTHER_USER, CHANNEL = "T1", "T2", "U1", "U2", "D1"
SCENARIO = "insurance-claim-no-callback"
INACTIVITY = timedelta(minutes=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(library, offline_engine, offline_persona, clock):
    def make(db: Database, critic=offline_engine) -> PracticeSessions:
        return PracticeSessions(
            db,
            library,
            critic=critic,
            persona=offline_persona,
            turn_limit=12,
            inactivity=INACTIVITY,
            clock=clock,
        )

    return make


@pytest.fixture
def sessions(database, make_service) -> PracticeSessions:
    return make_service(database)


def start(sessions, *, team=TEAM, user=USER, scenario=SCENARIO, difficulty=Difficulty.upset):
    return sessions.start(team, user, scenario, difficulty, CHANNEL, thread_ts=None)


def test_starting_opens_with_the_customer_and_a_second_session_is_refused_politely(sessions):
    first = start(sessions)
    second = start(sessions, scenario="laptop-dead-on-arrival")

    assert isinstance(first, Started)
    assert first.opening in sessions.scenarios.scenarios[SCENARIO].openings[Difficulty.upset]
    assert first.session.status is SessionStatus.active
    assert first.session.mood == first.session.start_mood == 64
    assert isinstance(second, AlreadyActive)
    assert second.session.id == first.session.id
    assert SCENARIO in second.message and "/practice end" in second.message


def test_the_one_session_rule_is_per_user_and_per_workspace(sessions):
    start(sessions)

    assert isinstance(start(sessions, user=OTHER_USER), Started)
    assert isinstance(start(sessions, team=OTHER_TEAM), Started)
    assert sessions.active_session(OTHER_TEAM, USER).team_id == OTHER_TEAM


def test_an_unknown_scenario_suggests_close_matches(sessions):
    result = start(sessions, scenario="insurance-claim")

    assert isinstance(result, UnknownScenario)
    assert result.suggestions[0] == SCENARIO
    assert SCENARIO in result.message


def test_a_restart_continues_the_session_from_the_database(database, make_service):
    before_restart = make_service(database)
    started = start(before_restart)
    first = before_restart.reply(TEAM, USER, "We'll look into it.", message_ts="1700000001.1")

    after_restart = make_service(Database(database.url))
    second = after_restart.reply(TEAM, USER, "Hello?")

    assert isinstance(first, Replied) and isinstance(second, Replied)
    assert second.session.id == started.session.id
    assert (first.customer_position, second.customer_position) == (2, 4)
    assert second.mood - second.mood_change == first.mood
    with database.session() as db:
        turns = db.query(PracticeTurn).order_by(PracticeTurn.position).all()
        assert [turn.position for turn in turns] == [0, 1, 2, 3, 4]
        assert [turn.role.value for turn in turns] == ["customer", "agent"] * 2 + ["customer"]
        assert turns[1].step_scores["act"] == 1 and turns[1].mood_after == first.mood
        assert turns[1].slack_ts == "1700000001.1" and turns[3].slack_ts is None
        assert len({turn.text for turn in turns}) == 5
        assert {turn.team_id for turn in turns} == {TEAM}


def test_good_replies_satisfy_the_customer_and_store_the_scorecard(sessions):
    started = start(sessions)

    results = []
    for reply in GOOD_REPLIES:
        results.append(sessions.reply(TEAM, USER, reply))
        if results[-1].scorecard:
            break

    last = results[-1]
    assert last.session.status is SessionStatus.satisfied
    assert last.scorecard.outcome is SessionStatus.satisfied
    assert sessions.scorecard(TEAM, started.session.id) == last.scorecard
    assert sessions.scorecard(OTHER_TEAM, started.session.id) is None
    assert sessions.active_session(TEAM, USER) is None
    assert isinstance(start(sessions), Started)


def test_ending_gives_the_scorecard_and_then_there_is_nothing_to_end(sessions):
    start(sessions)
    sessions.reply(TEAM, USER, "I'm sorry about that.")

    ended = sessions.end(TEAM, USER)

    assert isinstance(ended, Finished)
    assert ended.session.status is SessionStatus.ended
    assert ended.scorecard.outcome is SessionStatus.ended and ended.scorecard.replies == 1
    assert isinstance(sessions.end(TEAM, USER), NoActiveSession)
    assert isinstance(sessions.reply(TEAM, USER, "Hello?"), NoActiveSession)


def test_idle_sessions_time_out(sessions, clock):
    start(sessions)
    clock.advance(20)
    start(sessions, user=OTHER_USER)
    clock.advance(15)

    timed_out = sessions.time_out_idle()

    assert [result.session.user_id for result in timed_out] == [USER]
    assert timed_out[0].session.status is SessionStatus.timed_out
    assert timed_out[0].scorecard.outcome is SessionStatus.timed_out
    assert sessions.active_session(TEAM, OTHER_USER) is not None


def test_a_reply_or_a_new_start_after_the_timeout_closes_the_idle_session(sessions, clock):
    start(sessions)
    clock.advance(31)

    late = sessions.reply(TEAM, USER, "Sorry, I was away.")
    restarted = start(sessions)
    clock.advance(31)
    replaced = start(sessions)

    assert isinstance(late, Finished) and late.session.status is SessionStatus.timed_out
    assert isinstance(restarted, Started) and restarted.closed_idle is None
    assert replaced.closed_idle.session.id == restarted.session.id
    assert replaced.closed_idle.session.status is SessionStatus.timed_out
    assert sessions.stats(TEAM, USER).outcomes == {"timed_out": 2, "active": 1}


def test_an_empty_reply_is_not_played(sessions):
    start(sessions)

    assert isinstance(sessions.reply(TEAM, USER, "   "), EmptyReply)


def test_two_replies_at_once_land_one_and_ask_to_resend_the_other(database, make_service):
    class ReplyingMeanwhile:
        """A critic during which the same user's second reply is handled in full."""

        def __init__(self, inner) -> None:
            self.inner = inner
            self.service = None

        def critique(self, request):
            if request.agent_reply == "first":
                assert isinstance(self.service.reply(TEAM, USER, "second"), Replied)
            return self.inner.critique(request)

    critic = ReplyingMeanwhile(make_service(database).critic)
    critic.service = make_service(database, critic=critic)
    start(critic.service)

    result = critic.service.reply(TEAM, USER, "first")

    assert isinstance(result, Busy)
    with database.session() as db:
        agent_texts = [t.text for t in db.query(PracticeTurn).filter_by(role="agent")]
    assert agent_texts == ["second"]


def test_threads_and_message_timestamps_are_recorded(sessions, database):
    started = start(sessions)

    sessions.attach_thread(TEAM, started.session.id, "1700000000.000100")
    sessions.record_message_ts(TEAM, started.session.id, 0, "1700000000.000100")

    found = sessions.find_by_thread(TEAM, CHANNEL, "1700000000.000100")
    assert found.id == started.session.id
    assert sessions.find_by_thread(OTHER_TEAM, CHANNEL, "1700000000.000100") is None
    with database.session() as db:
        assert db.query(PracticeTurn).one().slack_ts == "1700000000.000100"


def test_stats_summarise_the_users_history_in_this_workspace(sessions):
    start(sessions)
    for reply in GOOD_REPLIES:
        if sessions.reply(TEAM, USER, reply).scorecard:
            break
    start(sessions, scenario="laptop-dead-on-arrival")
    sessions.reply(TEAM, USER, "Calm down.")
    sessions.end(TEAM, USER)
    start(sessions, team=OTHER_TEAM)

    stats = sessions.stats(TEAM, USER)

    assert stats.sessions == 2
    assert stats.outcomes == {"satisfied": 1, "ended": 1}
    assert stats.scenarios_practised == ["insurance-claim-no-callback", "laptop-dead-on-arrival"]
    assert stats.best_overall >= 80
    assert 0 < stats.step_averages["apologize"] < 2
    assert stats.replies >= 2
    assert stats.last_practised_at is not None
    assert sessions.stats(TEAM, OTHER_USER).sessions == 0


def test_the_settings_give_the_turn_limit_timeout_and_team_scenarios(database, tmp_path):
    (tmp_path / "our-own.toml").write_text(
        read_text("scenarios", f"{SCENARIO}.toml"), encoding="utf-8"
    )
    settings = Settings(
        scenarios_dir=tmp_path,
        practice_turn_limit=2,
        practice_inactivity_minutes=5,
        openai_api_key=None,
        _env_file=None,
    )

    sessions = PracticeSessions.from_settings(database, settings)
    start(sessions, scenario="our-own")
    sessions.reply(TEAM, USER, "Hello.")
    last = sessions.reply(TEAM, USER, "Hi.")

    assert sessions.inactivity == timedelta(minutes=5)
    assert sessions.persona.engine == "offline"
    assert last.session.status is SessionStatus.turn_limit


def _race(monkeypatch, *calls):
    """Run `calls` at once, each held after reading the active rows until all have read them."""
    import threading

    from bot.coaching.practice import service as service_module

    barrier = threading.Barrier(len(calls))
    real = service_module.build_scorecard
    waited = threading.local()

    def held(*args, **kwargs):
        if not getattr(waited, "once", False):  # the first close of each call waits
            waited.once = True
            barrier.wait(timeout=5)
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "build_scorecard", held)
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_replicas_timing_out_at_once_close_each_session_once(sessions, clock, monkeypatch):
    start(sessions)
    start(sessions, user=OTHER_USER)
    clock.advance(31)

    first, second = _race(monkeypatch, sessions.time_out_idle, sessions.time_out_idle)

    ids = [finished.session.id for finished in first + second]
    assert len(ids) == 2 and len(set(ids)) == 2


@pytest.mark.parametrize("backend", ["postgresql"])
def test_ending_during_the_timeout_tick_gives_one_scorecard(sessions, clock, monkeypatch):
    start(sessions)
    clock.advance(31)

    timed_out, ended = _race(monkeypatch, sessions.time_out_idle, lambda: sessions.end(TEAM, USER))

    finished = [*timed_out, *([ended] if isinstance(ended, Finished) else [])]
    assert len(finished) == 1


def test_practice_uses_the_processs_one_critique_engine(database_url):
    from bot.services import Services

    settings = Settings(database_url=database_url, openai_api_key="test", _env_file=None)
    services = Services.from_settings(settings)
    try:
        assert services.practice.critic is services.critique_engine
    finally:
        services.db.dispose()


def test_a_huge_reply_is_played_and_stored_cut_to_the_critique_limit(sessions, database):
    from bot.coaching.critique import MAX_REPLY_CHARS

    start(sessions)
    huge = GOOD_REPLIES[0] + " More." * 8000

    replied = sessions.reply(TEAM, USER, huge)
    normal = sessions.reply(TEAM, USER, GOOD_REPLIES[1])

    assert isinstance(replied, Replied) and replied.truncated and not normal.truncated
    with database.session() as db:
        stored = db.scalars(select(PracticeTurn.text).where(PracticeTurn.position == 1)).one()
    assert stored == huge[:MAX_REPLY_CHARS]


def test_a_reply_the_offline_critic_cannot_read_is_not_played_and_says_why(sessions):
    started = start(sessions)
    result = sessions.reply(TEAM, USER, "Lo sentimos mucho, le enviamos un portátil nuevo mañana.")
    assert isinstance(result, UnreadReply)
    assert "reads English" in result.message
    after = sessions.reply(TEAM, USER, GOOD_REPLIES[0])
    assert isinstance(started, Started)
    assert isinstance(after, Replied) and after.customer_position == 2  # the first reply played
