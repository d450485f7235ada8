"""Practice sessions over the database: start, reply, end, time out, and a user's stats.

Everything lives in the database (a restart loses nothing: each reply rebuilds the conversation
from its stored turns) and every query is scoped by workspace. A user has at most one active
session per workspace. The critique and the persona, which may call a model, run between two
short transactions; the unique turn position stops two concurrent replies from both landing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from bot.coaching.critique import CritiqueEngine
from bot.coaching.engines import build_critique_engine, for_user
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.persona import Persona, Turn
from bot.coaching.practice.persona_offline import OfflinePersona
from bot.coaching.practice.scenarios import Scenario, ScenarioLibrary, load_scenarios
from bot.coaching.practice.scorecard import Scorecard, build_scorecard, step_averages
from bot.coaching.practice.session import PlayedTurn, ReplyNotRead, Roleplay, overall_score
from bot.prompt_files import read_toml
from bot.settings import Settings
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.models import PracticeSession, PracticeTurn, SessionStatus, TurnRole


@dataclass(frozen=True)
class SessionView:
    id: int
    team_id: str
    user_id: str
    scenario_id: str
    difficulty: Difficulty
    channel_id: str
    thread_ts: str | None
    status: SessionStatus
    engine: str
    start_mood: int
    mood: int
    last_activity_at: datetime
    scorecard_settled: bool = False

    @classmethod
    def of(cls, row: PracticeSession) -> SessionView:
        return cls(
            id=row.id,
            team_id=row.team_id,
            user_id=row.user_id,
            scenario_id=row.scenario_id,
            difficulty=Difficulty(row.difficulty),
            channel_id=row.channel_id,
            thread_ts=row.thread_ts,
            status=row.status,
            engine=row.engine,
            start_mood=row.start_mood,
            mood=row.mood,
            last_activity_at=row.last_activity_at,
            scorecard_settled=row.scorecard_settled_at is not None,
        )


@dataclass(frozen=True)
class Started:
    """The opening is turn 0. `closed_idle`: the user's previous session, timed out to make way."""

    session: SessionView
    opening: str
    closed_idle: Finished | None = None


@dataclass(frozen=True)
class AlreadyActive:
    session: SessionView
    message: str


@dataclass(frozen=True)
class UnknownScenario:
    requested: str
    suggestions: list[str]
    message: str


@dataclass(frozen=True)
class Replied:
    """The customer answered; `scorecard` is set when that reply ended the session;
    `truncated`: only the reply's first MAX_REPLY_CHARS characters were played and stored;
    `posted_ts`: where the answer is (or was to be) in Slack, for a replayed reply."""

    session: SessionView
    customer: str
    customer_position: int
    mood: int
    mood_change: int
    scorecard: Scorecard | None
    truncated: bool = False
    posted_ts: str | None = None


@dataclass(frozen=True)
class Finished:
    """The session ended (by the agent, or timed out) without a customer message; no scorecard
    only when the scenario's file was removed since the session started."""

    session: SessionView
    scorecard: Scorecard | None


@dataclass(frozen=True)
class NoActiveSession:
    message: str


@dataclass(frozen=True)
class EmptyReply:
    """A message with no text (e.g. only a file): nothing to play."""

    message: str


@dataclass(frozen=True)
class Busy:
    """Another reply to the same session was being handled at the same moment."""

    message: str


StartResult = Started | AlreadyActive | UnknownScenario


@dataclass(frozen=True)
class UnreadReply:
    """The critic could not read the reply (another language for the offline engine)."""

    message: str


ReplyResult = Replied | Finished | NoActiveSession | EmptyReply | UnreadReply | Busy
EndResult = Finished | NoActiveSession


@dataclass(frozen=True)
class PracticeStats:
    """A user's practice history in one workspace, for `/practice stats`."""

    sessions: int
    outcomes: dict[str, int]
    replies: int
    step_averages: dict[str, float]
    best_overall: int | None
    scenarios_practised: list[str]
    last_practised_at: datetime | None


def _messages() -> dict[str, str]:
    return read_toml("practice", "messages.toml")


def _turns(row: PracticeSession) -> list[Turn]:
    return [Turn(t.role, t.text, t.mood_after, t.step_scores) for t in row.turns]


class PracticeSessions:
    def __init__(
        self,
        db: Database,
        scenarios: ScenarioLibrary,
        *,
        critic: CritiqueEngine,
        persona: Persona,
        turn_limit: int,
        inactivity: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.scenarios = scenarios
        self.critic = critic
        self.persona = persona
        # What plays a turn at once when the LLM engines are busy (`reply(..., offline=True)`).
        self.offline_critic: CritiqueEngine = OfflineCritiqueEngine()
        self.offline_persona: Persona = OfflinePersona()
        self.turn_limit = turn_limit
        self.inactivity = inactivity
        self.clock = clock

    @classmethod
    def from_settings(
        cls,
        db: Database,
        settings: Settings,
        *,
        critic: CritiqueEngine | None = None,
        persona: Persona | None = None,
    ) -> PracticeSessions:
        """Built-in and team scenarios, and the LLM engines when an OpenAI key is set. Pass the
        process's `critic` (`Services.critique_engine`) so it has one client and one budget."""
        return cls(
            db,
            load_scenarios(settings.scenarios_dir),
            critic=critic or build_critique_engine(settings),
            persona=persona or build_persona(settings),
            turn_limit=settings.practice_turn_limit,
            inactivity=timedelta(minutes=settings.practice_inactivity_minutes),
        )

    # -- starting ---------------------------------------------------------------------------

    def start(
        self,
        team_id: str,
        user_id: str,
        scenario_id: str,
        difficulty: Difficulty,
        channel_id: str,
        thread_ts: str | None = None,
    ) -> StartResult:
        scenario = self.scenarios.get(scenario_id)
        if scenario is None:
            return self.unknown_scenario(scenario_id)
        try:
            return self._start(team_id, user_id, scenario, difficulty, channel_id, thread_ts)
        except IntegrityError:
            # A concurrent start by the same person took the one-active-session index first.
            with self.db.session() as db:
                return self._already_active(self._active_row(db, team_id, user_id))

    def _start(
        self,
        team_id: str,
        user_id: str,
        scenario: Scenario,
        difficulty: Difficulty,
        channel_id: str,
        thread_ts: str | None,
    ) -> StartResult:
        now = self.clock()
        with self.db.session() as db:
            active = self._active_row(db, team_id, user_id)
            if active is not None and not self._idle(active, now):
                return self._already_active(active)
            closed_idle = None
            if active is not None:  # None when another request closed it at the same moment
                closed_idle = self._finish(active, SessionStatus.timed_out, now)
            row = PracticeSession(
                team_id=team_id,
                user_id=user_id,
                scenario_id=scenario.id,
                difficulty=difficulty.value,
                channel_id=channel_id,
                thread_ts=thread_ts,
                engine=self.persona.engine,
                start_mood=scenario.start_mood(difficulty),
                mood=scenario.start_mood(difficulty),
                started_at=now,
                last_activity_at=now,
            )
            db.add(row)
            db.flush()  # the id seeds the persona's choice of lines
            opening = self._roleplay(row, []).open()
            self._add_turns(row, [opening], position=0)
            return Started(SessionView.of(row), opening.text, closed_idle)

    @staticmethod
    def _already_active(active: PracticeSession) -> AlreadyActive:
        message = _messages()["already_active"].format(scenario=active.scenario_id)
        return AlreadyActive(SessionView.of(active), message)

    def unknown_scenario(self, requested: str) -> UnknownScenario:
        suggestions = self.scenarios.close_matches(requested)
        key = "unknown_scenario_with_suggestions" if suggestions else "unknown_scenario"
        message = _messages()[key].format(requested=requested, suggestions=", ".join(suggestions))
        return UnknownScenario(requested, suggestions, message)

    def attach_thread(self, team_id: str, session_id: int, thread_ts: str) -> None:
        """Record the Slack thread the opening was posted in."""
        with self.db.session() as db:
            row = self._row(db, team_id, session_id)
            if row is not None:
                row.thread_ts = thread_ts

    def record_message_ts(self, team_id: str, session_id: int, position: int, ts: str) -> None:
        """Record the Slack timestamp of a posted turn."""
        with self.db.session() as db:
            turn = db.scalar(
                select(PracticeTurn).where(
                    PracticeTurn.team_id == team_id,
                    PracticeTurn.session_id == session_id,
                    PracticeTurn.position == position,
                )
            )
            if turn is not None:
                turn.slack_ts = ts

    # -- playing ----------------------------------------------------------------------------

    def reply(
        self,
        team_id: str,
        user_id: str,
        text: str,
        *,
        message_ts: str | None = None,
        answer_ts: str | None = None,
        offline: bool = False,
    ) -> ReplyResult:
        """Play the agent's reply (posted in Slack at `message_ts`) in their active session;
        `answer_ts`: where the customer's answer goes in Slack (the typing cue it replaces),
        stored with it so that a replay updates that message rather than post another one;
        `offline`: with the offline critic and customer, whatever the session's engines."""
        if not text.strip():
            return EmptyReply(_messages()["empty_reply"])
        now = self.clock()
        with self.db.session() as db:
            row = self._active_row(db, team_id, user_id)
            if row is None:
                return NoActiveSession(_messages()["no_active_session"])
            if self._idle(row, now) or self.scenarios.get(row.scenario_id) is None:
                status = SessionStatus.timed_out if self._idle(row, now) else SessionStatus.ended
                return self._finish(row, status, now) or NoActiveSession(
                    _messages()["no_active_session"]
                )
            roleplay = self._roleplay(row, _turns(row), offline=offline)
            session_id, played_so_far = row.id, len(row.turns)
        try:
            played = roleplay.reply(text)  # outside a transaction: may call a model
        except ReplyNotRead as not_read:
            return UnreadReply(str(not_read))
        return self._save_played(
            team_id, session_id, played_so_far, roleplay, played, (message_ts, answer_ts)
        )

    def _save_played(
        self,
        team_id: str,
        session_id: int,
        position: int,
        roleplay: Roleplay,
        played: PlayedTurn,
        slack_ts: tuple[str | None, str | None],
    ) -> ReplyResult:
        now = self.clock()
        try:
            with self.db.session() as db:
                row = self._row(db, team_id, session_id, for_update=True)
                if row is None or row.status is not SessionStatus.active:
                    return NoActiveSession(_messages()["no_active_session"])
                self._add_turns(row, [played.agent, played.customer], position=position)
                row.turns[position].slack_ts, row.turns[position + 1].slack_ts = slack_ts
                row.mood = played.customer.mood_after
                row.last_activity_at = now
                scorecard = None
                if played.status is not SessionStatus.active:  # the row is locked: it closes
                    _, scorecard = self._close(row, played.status, now, roleplay.turns)
                return Replied(
                    SessionView.of(row),
                    played.customer.text,
                    position + 1,
                    played.change.after,
                    played.change.delta,
                    scorecard,
                    played.truncated,
                )
        except IntegrityError:
            return Busy(_messages()["busy"])

    def replayed(self, team_id: str, channel_id: str, message_ts: str) -> Replied | None:
        """The answer already given to the agent's reply posted at `message_ts`, if it was
        played before (a retried job must not play it twice), else None."""
        with self.db.session() as db:
            agent = db.scalar(
                select(PracticeTurn)
                .join(PracticeSession)
                .where(
                    PracticeTurn.team_id == team_id,
                    PracticeTurn.slack_ts == message_ts,
                    PracticeTurn.role == TurnRole.agent,
                    PracticeSession.channel_id == channel_id,
                )
            )
            if agent is None:
                return None
            row = agent.session
            turns = {turn.position: turn for turn in row.turns}
            customer = turns[agent.position + 1]
            before = turns[agent.position - 1].mood_after
            ended_here = row.status is not SessionStatus.active and customer.position == max(turns)
            scorecard = (
                Scorecard.model_validate(row.scorecard) if ended_here and row.scorecard else None
            )
            return Replied(
                SessionView.of(row),
                customer.text,
                customer.position,
                customer.mood_after,
                customer.mood_after - before,
                scorecard,
                posted_ts=customer.slack_ts,
            )

    # -- ending -----------------------------------------------------------------------------

    def end(self, team_id: str, user_id: str) -> EndResult:
        with self.db.session() as db:
            row = self._active_row(db, team_id, user_id)
            if row is None:
                return NoActiveSession(_messages()["no_active_session"])
            finished = self._finish(row, SessionStatus.ended, self.clock())
            return finished or NoActiveSession(_messages()["no_active_session"])

    def time_out_idle(self) -> list[Finished]:
        """End every session idle longer than the inactivity timeout, in every workspace."""
        now = self.clock()
        with self.db.session() as db:
            rows = db.scalars(
                select(PracticeSession)
                .where(
                    PracticeSession.status == SessionStatus.active,
                    PracticeSession.last_activity_at < now - self.inactivity,
                )
                .options(selectinload(PracticeSession.turns))
            ).all()
            finished = [self._finish(row, SessionStatus.timed_out, now) for row in rows]
            return [session for session in finished if session is not None]

    def scorecards_owed(self, ended_before: datetime) -> list[SessionView]:
        """Sessions that ended before `ended_before` with their scorecard never settled (its
        job lost, or still retrying), in every workspace."""
        with self.db.session() as db:
            rows = db.scalars(
                select(PracticeSession).where(
                    PracticeSession.ended_at < ended_before,
                    PracticeSession.scorecard_settled_at.is_(None),
                    PracticeSession.thread_ts.is_not(None),
                )
            ).all()
            return [SessionView.of(row) for row in rows]

    def settle_scorecard(self, team_id: str, session_id: int) -> None:
        """The scorecard is in its thread (or can never be): nothing more is owed."""
        with self.db.session() as db:
            db.execute(
                update(PracticeSession)
                .where(PracticeSession.team_id == team_id, PracticeSession.id == session_id)
                .values(scorecard_settled_at=self.clock())
            )

    def _finish(
        self, row: PracticeSession, status: SessionStatus, now: datetime
    ) -> Finished | None:
        """None when another request (another replica's tick, an End click) closed it first."""
        closed, scorecard = self._close(row, status, now)
        return Finished(SessionView.of(row), scorecard) if closed else None

    def _close(
        self,
        row: PracticeSession,
        status: SessionStatus,
        now: datetime,
        turns: Sequence[Turn] | None = None,
    ) -> tuple[bool, Scorecard | None]:
        """Close the session if it is still active (the guarded UPDATE is what decides, so two
        requests that both read it as active cannot both close it): whether this request closed
        it, and its scorecard (None when the scenario's file was removed since it started)."""
        scenario = self.scenarios.get(row.scenario_id)
        scorecard = None
        if scenario is not None:
            scorecard = build_scorecard(
                scenario, Difficulty(row.difficulty), status, turns or _turns(row)
            )
        db = object_session(row)
        assert db is not None
        changed = db.execute(
            update(PracticeSession)
            .where(PracticeSession.id == row.id, PracticeSession.status == SessionStatus.active)
            .values(
                status=status,
                ended_at=now,
                scorecard=scorecard.model_dump(mode="json") if scorecard else None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            return False, None
        db.refresh(row, ["status", "ended_at", "scorecard"])
        return True, scorecard

    # -- reading ----------------------------------------------------------------------------

    def session(self, team_id: str, session_id: int) -> SessionView | None:
        with self.db.session() as db:
            row = self._row(db, team_id, session_id)
            return SessionView.of(row) if row else None

    def active_session(self, team_id: str, user_id: str) -> SessionView | None:
        with self.db.session() as db:
            row = self._active_row(db, team_id, user_id)
            return SessionView.of(row) if row else None

    def find_by_thread(self, team_id: str, channel_id: str, thread_ts: str) -> SessionView | None:
        with self.db.session() as db:
            row = db.scalar(
                select(PracticeSession).where(
                    PracticeSession.team_id == team_id,
                    PracticeSession.channel_id == channel_id,
                    PracticeSession.thread_ts == thread_ts,
                )
            )
            return SessionView.of(row) if row else None

    def scorecard(self, team_id: str, session_id: int) -> Scorecard | None:
        with self.db.session() as db:
            row = self._row(db, team_id, session_id)
            if row is None or row.scorecard is None:
                return None
            return Scorecard.model_validate(row.scorecard)

    def stats(self, team_id: str, user_id: str) -> PracticeStats:
        with self.db.session() as db:
            rows = db.scalars(
                select(PracticeSession)
                .where(PracticeSession.team_id == team_id, PracticeSession.user_id == user_id)
                .order_by(PracticeSession.started_at)
                .options(selectinload(PracticeSession.turns))
            ).all()
            replies = [t for row in rows for t in _turns(row) if t.role is TurnRole.agent]
            return PracticeStats(
                sessions=len(rows),
                outcomes=dict(Counter(row.status.value for row in rows)),
                replies=len(replies),
                step_averages=step_averages(replies),
                best_overall=max(map(overall_score, replies), default=None),
                scenarios_practised=sorted({row.scenario_id for row in rows}),
                last_practised_at=max((row.last_activity_at for row in rows), default=None),
            )

    # -- helpers ----------------------------------------------------------------------------

    def _roleplay(
        self, row: PracticeSession, turns: list[Turn], *, offline: bool = False
    ) -> Roleplay:
        # On the trainee's behalf: LLM engines keep to their allowance.
        return Roleplay(
            self.scenarios.scenarios[row.scenario_id],
            Difficulty(row.difficulty),
            critic=self.offline_critic
            if offline
            else for_user(self.critic, row.team_id, row.user_id),
            persona=self.offline_persona
            if offline
            else for_user(self.persona, row.team_id, row.user_id),
            turn_limit=self.turn_limit,
            seed=f"practice-session-{row.id}",
            turns=turns,
            status=row.status,
        )

    def _idle(self, row: PracticeSession, now: datetime) -> bool:
        return now - row.last_activity_at > self.inactivity

    @staticmethod
    def _active_row(db: Session, team_id: str, user_id: str) -> PracticeSession | None:
        return db.scalar(
            select(PracticeSession)
            .where(
                PracticeSession.team_id == team_id,
                PracticeSession.user_id == user_id,
                PracticeSession.status == SessionStatus.active,
            )
            .order_by(PracticeSession.id)
            .limit(1)
        )

    @staticmethod
    def _row(
        db: Session, team_id: str, session_id: int, *, for_update: bool = False
    ) -> PracticeSession | None:
        query = select(PracticeSession).where(
            PracticeSession.team_id == team_id, PracticeSession.id == session_id
        )
        return db.scalar(query.with_for_update() if for_update else query)

    @staticmethod
    def _add_turns(row: PracticeSession, turns: Sequence[Turn], *, position: int) -> None:
        for offset, turn in enumerate(turns):
            row.turns.append(
                PracticeTurn(
                    team_id=row.team_id,
                    position=position + offset,
                    role=turn.role,
                    text=turn.text,
                    mood_after=turn.mood_after,
                    step_scores=turn.step_scores,
                )
            )
