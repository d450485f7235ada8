"""Role-play practice in Slack, end to end: the real bolt app over HTTP against the fake Slack,
on SQLite and PostgreSQL, with the offline critique engine and persona."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.blocks.practice import (
    DIFFICULTY_INPUT,
    END_ACTION,
    FAMILY_INPUT,
    PLACE_INPUT,
    TRY_AGAIN_ACTION,
    texts,
)
from bot.fakes.slack import FakeSlack, Message
from bot.services import Services
from bot.slack.practice_end import IdlePracticeDue
from bot.store.models import PracticeSession, SessionStatus
from tests.coaching.practice.conftest import GOOD_REPLIES, INJECTION, TRIGGER_REPLIES
from tests.conftest import RunningBot, bot_settings, serving
from tests.engines import ScriptedEngine

pytestmark = pytest.mark.e2e

TEAM = "T0FAKE"
SCENARIO = "laptop-dead-on-arrival"
TIMEOUT = 5.0


def _text(message: Message) -> str:
    return json.dumps(message.blocks or []) + message.text


def _meters(message: Message) -> list[str]:
    contexts = [b for b in message.blocks or [] if b["type"] == "context"]
    return [
        c["elements"][0]["text"] for c in contexts if c["elements"][0]["text"].startswith("Anger")
    ]


def is_customer(message: Message) -> bool:
    return message.bot_id is not None and bool(_meters(message))


def is_scorecard(message: Message) -> bool:
    return message.bot_id is not None and "Scorecard: " in _text(message)


def anger(message: Message) -> int:
    """The number on the customer message's meter."""
    [meter] = _meters(message)
    return int(meter.split("/100")[0].split()[-1])


class Trainee:
    """An agent practising, in a DM with the bot or in a support channel's thread."""

    def __init__(self, fake: FakeSlack, bot: RunningBot) -> None:
        self.fake, self.bot, self.practice = fake, bot, bot.services.practice
        self.agent = fake.add_user("agent")
        self.colleague = fake.add_user("colleague")
        self.channel = fake.add_channel("support", members=[self.agent, self.colleague])
        self.where = fake.dm_channel(self.agent)
        self.thread_ts: str | None = None

    def command(self, text: str):
        return self.fake.send_command(self.agent, self.channel, "/practice", text)

    def start(self, text: str = f"{SCENARIO} furious", *, here: bool = False) -> Message:
        self.where = self.channel if here else self.fake.dm_channel(self.agent)
        before = len(self.fake.messages(self.where))
        self.command(text)
        return self.wait_for_card(before)

    def wait_for_card(self, before: int) -> Message:
        self.fake.wait_until(lambda: len(self.fake.messages(self.where)) > before, TIMEOUT)
        card = self.fake.messages(self.where)[-1]
        self.thread_ts = card.ts
        self.fake.wait_until(lambda: len(self.customer_messages()) == 1, TIMEOUT)
        return card

    def thread(self) -> list[Message]:
        assert self.thread_ts is not None
        return self.fake.messages(self.where, thread_ts=self.thread_ts)

    def customer_messages(self) -> list[Message]:
        return [m for m in self.thread() if is_customer(m)]

    def reply(self, text: str, user: str | None = None) -> Message:
        """Reply in the thread and wait for the customer's answer."""
        answered = len(self.customer_messages())
        self.fake.user_posts(user or self.agent, self.where, text, thread_ts=self.thread_ts)
        self.fake.wait_until(lambda: len(self.customer_messages()) > answered, TIMEOUT)
        self.settle()
        return self.customer_messages()[-1]

    def settle(self) -> None:
        """Let the listeners of already-acked events finish (the cue replaced, the scorecard)."""
        typing = texts()["typing"]
        self.fake.wait_until(lambda: all(m.text != typing for m in self.thread()), TIMEOUT)
        self.fake.wait_idle()

    def scorecard(self) -> Message:
        self.fake.wait_until(lambda: any(is_scorecard(m) for m in self.thread()), TIMEOUT)
        return next(m for m in self.thread() if is_scorecard(m))

    def ephemeral_saying(self, words: str) -> str:
        """The text of the ephemeral shown to the agent that says `words`, once it is there
        (answers through the response URL may arrive in any order)."""

        def shown() -> list[str]:
            return [e.text for e in self.fake.ephemerals(user=self.agent) if words in e.text]

        self.fake.wait_until(shown, TIMEOUT)
        return shown()[0]

    def session(self):
        return self.practice.find_by_thread(TEAM, self.where, self.thread_ts)


@pytest.fixture
def critique_engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture
def trainee(running_bot, fake_slack) -> Trainee:
    return Trainee(fake_slack, running_bot)


def test_practice_alone_opens_the_picker_and_submitting_starts_a_dm_session(trainee, fake_slack):
    trainee.command("")
    fake_slack.wait_until(lambda: fake_slack.modals(trainee.agent), TIMEOUT)
    [picker] = fake_slack.modals(trainee.agent)
    shown = json.dumps(picker.blocks)
    assert "Apologize" in shown and "Prepare to act" in shown  # the rubric, before starting
    assert "A thread in this channel" in shown

    fake_slack.submit_view(
        trainee.agent,
        picker.id,
        {FAMILY_INPUT: "broken_promise", DIFFICULTY_INPUT: "mild", PLACE_INPUT: "dm"},
    )
    card = trainee.wait_for_card(0)

    session = trainee.session()
    assert session.user_id == trainee.agent and session.difficulty == "mild"
    assert trainee.practice.scenarios.get(session.scenario_id).family == "broken_promise"
    assert "You can offer" in _text(card)
    assert fake_slack.modals(trainee.agent) == []


def test_a_named_scenario_posts_the_card_then_the_opening_in_its_thread(trainee, fake_slack):
    card = trainee.start(f"{SCENARIO} furious")

    assert card.text.startswith("Practice: ")
    [root, opening] = trainee.thread()
    assert root.ts == card.ts
    assert is_customer(opening) and END_ACTION in _text(opening)
    assert anger(opening) == trainee.session().start_mood
    assert trainee.ephemeral_saying("reply to the customer in its thread")


def test_a_good_practice_run_ends_satisfied_with_a_scorecard_and_try_again(trainee, fake_slack):
    trainee.start(f"{SCENARIO} furious")
    moods = [anger(trainee.customer_messages()[0])]

    for reply in GOOD_REPLIES:
        moods.append(anger(trainee.reply(reply)))
        if trainee.session().status is not SessionStatus.active:
            break

    assert trainee.session().status is SessionStatus.satisfied
    assert moods == sorted(moods, reverse=True) and moods[-1] < moods[0]
    scorecard = trainee.scorecard()
    assert "The customer is satisfied." in _text(scorecard)
    assert END_ACTION not in _text(trainee.customer_messages()[-1])  # no End once it is over

    cards = len(fake_slack.dm_messages(trainee.agent))
    fake_slack.click(trainee.agent, scorecard, TRY_AGAIN_ACTION)
    trainee.wait_for_card(cards)
    again = trainee.session()
    assert (again.scenario_id, again.difficulty, again.status) == (SCENARIO, "furious", "active")


def test_triggers_anger_the_customer_and_the_meter_shows_it(trainee) -> None:
    trainee.start(f"{SCENARIO} upset")
    opening = anger(trainee.customer_messages()[0])

    angrier = trainee.reply(TRIGGER_REPLIES[0])

    assert anger(angrier) > opening
    assert "angrier by" in _text(angrier)


def test_practice_end_posts_the_scorecard_and_a_second_session_is_refused_politely(
    trainee, fake_slack
):
    trainee.start(f"{SCENARIO} upset")
    trainee.command("bank-card-blocked-abroad")

    refusal = trainee.ephemeral_saying("You already have a practice session going")
    assert trainee.thread_ts.replace(".", "") in refusal  # a link to the active thread

    trainee.command("end")
    assert trainee.ephemeral_saying("Session ended")
    assert "You ended the session." in _text(trainee.scorecard())
    assert trainee.session().status is SessionStatus.ended


def test_the_end_button_ends_only_your_own_session(trainee, fake_slack) -> None:
    trainee.start(f"{SCENARIO} mild here", here=True)
    opening = trainee.customer_messages()[0]

    fake_slack.click(trainee.colleague, opening, END_ACTION)
    fake_slack.wait_until(lambda: fake_slack.ephemerals(user=trainee.colleague), TIMEOUT)
    assert "not yours" in fake_slack.ephemerals(user=trainee.colleague)[0].text
    assert trainee.session().status is SessionStatus.active
    fake_slack.click(trainee.agent, opening, END_ACTION)

    trainee.scorecard()
    assert trainee.session().status is SessionStatus.ended


def test_other_people_edits_and_the_bot_itself_are_ignored_in_the_thread(trainee, fake_slack):
    trainee.start(f"{SCENARIO} upset here", here=True)
    first = trainee.reply(GOOD_REPLIES[0])
    posted = len(trainee.thread())

    fake_slack.user_posts(
        trainee.colleague, trainee.channel, "Nice one!", thread_ts=trainee.thread_ts
    )
    [agent_reply] = [m for m in trainee.thread() if m.user == trainee.agent]
    fake_slack.user_edits(trainee.agent, trainee.channel, agent_reply.ts, "Calm down.")
    fake_slack.wait_until(trainee.bot.jobs_done, TIMEOUT)  # an answer, were one wrongly given
    trainee.settle()

    assert len(trainee.thread()) == posted + 1  # only the colleague's message
    assert trainee.customer_messages()[-1] == first


def test_the_inactivity_tick_times_out_an_idle_session_with_its_scorecard(
    trainee, running_bot, fake_slack
):
    trainee.start(f"{SCENARIO} upset")
    trainee.reply(GOOD_REPLIES[0])
    services = running_bot.services
    with services.db.session() as session:
        idle = session.get(PracticeSession, trainee.session().id)
        idle.last_activity_at -= timedelta(
            minutes=services.settings.practice_inactivity_minutes + 1
        )

    services.enqueue(IdlePracticeDue())  # what the scheduler's tick does

    assert "The session timed out without a reply." in _text(trainee.scorecard())
    assert trainee.session().status is SessionStatus.timed_out


def test_an_injected_instruction_does_not_end_the_session(trainee) -> None:
    trainee.start(f"{SCENARIO} furious")

    trainee.reply(INJECTION)

    assert trainee.session().status is SessionStatus.active
    assert not any(is_scorecard(m) for m in trainee.thread())


def test_an_unknown_subcommand_gets_a_suggestion(trainee, fake_slack) -> None:
    trainee.command("lsit")

    [shown] = fake_slack.ephemerals(user=trainee.agent)
    assert shown.text.startswith("I don't know `lsit`. Did you mean `list`?")


def test_list_and_stats_answer_privately(trainee, fake_slack) -> None:
    trainee.command("list")
    trainee.command("stats")

    listing, stats = fake_slack.ephemerals(user=trainee.agent)
    assert SCENARIO in _text(listing) and "Broken promise" in _text(listing)
    assert "You have not practised yet" in stats.text


def test_a_restart_mid_session_continues_the_session(trainee, fake_slack, database_url):
    trainee.start(f"{SCENARIO} furious")
    first = anger(trainee.reply(GOOD_REPLIES[0]))

    restarted = Services.from_settings(bot_settings(fake_slack, database_url))
    with serving(restarted) as base_url:
        fake_slack.connect(f"{base_url}/slack/events")
        second = anger(trainee.reply(GOOD_REPLIES[1]))
    restarted.close()

    assert second < first
    assert len(trainee.customer_messages()) == 3


def _make_idle(trainee, services) -> None:
    with services.db.session() as session:
        idle = session.get(PracticeSession, trainee.session().id)
        idle.last_activity_at -= timedelta(
            minutes=services.settings.practice_inactivity_minutes + 1
        )


def test_a_rate_limited_timeout_scorecard_still_arrives(trainee, running_bot, fake_slack):
    trainee.start(f"{SCENARIO} upset")
    services = running_bot.services
    _make_idle(trainee, services)
    fake_slack.rate_limit("chat.postMessage", retry_after=1)

    services.enqueue(IdlePracticeDue())

    assert "The session timed out without a reply." in _text(trainee.scorecard())


def test_a_timeout_scorecard_that_cannot_be_posted_is_logged_and_the_session_closed(
    trainee, running_bot, fake_slack, caplog
):
    trainee.start(f"{SCENARIO} upset here", here=True)
    services = running_bot.services
    _make_idle(trainee, services)
    fake_slack.archive_channel(trainee.channel)

    with caplog.at_level("WARNING", logger="bot.slack.practice_end"):
        services.enqueue(IdlePracticeDue())
        fake_slack.wait_until(
            lambda: any(r.name == "bot.slack.practice_end" for r in caplog.records), TIMEOUT
        )

    assert trainee.session().status is SessionStatus.timed_out
    [record] = [r for r in caplog.records if r.name == "bot.slack.practice_end"]
    assert record.levelname == "WARNING" and str(trainee.session().id) in record.getMessage()


def test_a_reply_that_fails_removes_the_typing_cue_and_asks_to_try_again(
    trainee, fake_slack, critique_engine, caplog
):
    trainee.start(f"{SCENARIO} upset")
    critique_engine.failure = RuntimeError("the engine broke")

    with caplog.at_level("WARNING", logger="bot.jobs.tasks"):
        fake_slack.user_posts(trainee.agent, trainee.where, GOOD_REPLIES[0], trainee.thread_ts)
        assert "try again" in trainee.ephemeral_saying("couldn't answer")
        trainee.settle()

    assert len(trainee.customer_messages()) == 1
    ours = [r for r in caplog.records if r.name == "bot.jobs.tasks"]
    assert any("RuntimeError" in r.getMessage() for r in ours)
    assert not any("the engine broke" in r.getMessage() for r in ours)
    critique_engine.failure = None
    assert anger(trainee.reply(GOOD_REPLIES[0])) < anger(trainee.customer_messages()[0])


def test_try_again_where_the_bot_cannot_post_says_why_and_starts_nothing(trainee, fake_slack):
    trainee.start(f"{SCENARIO} mild here", here=True)
    trainee.command("end")
    scorecard = trainee.scorecard()
    # The bot is removed from the channel (the fake has no public call for that).
    fake_slack._workspace.conversation(trainee.channel).members.discard(fake_slack.bot_user_id)

    fake_slack.click(trainee.agent, scorecard, TRY_AGAIN_ACTION)

    assert "invite me" in trainee.ephemeral_saying("I can't post in this channel")
    assert trainee.practice.active_session(TEAM, trainee.agent) is None
    trainee.start(f"{SCENARIO} mild")  # a new session in the DM is not blocked
    assert trainee.session().status is SessionStatus.active
    fake_slack.wait_until(
        lambda: (
            sum("has started" in e.text for e in fake_slack.ephemerals(user=trainee.agent)) == 2
        ),
        TIMEOUT,
    )


def test_an_unknown_scenario_is_quoted_back_escaped(trainee) -> None:
    trainee.command("start <!channel>")

    shown = trainee.ephemeral_saying("I don't know a scenario called")
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown


def test_the_picker_is_acked_before_asking_slack_about_the_channel(trainee, fake_slack):
    outsiders = fake_slack.add_channel("outsiders", members=[trainee.agent], bot_is_member=False)
    fake_slack.send_command(trainee.agent, outsiders, "/practice", "")
    fake_slack.wait_until(lambda: fake_slack.modals(trainee.agent), TIMEOUT)
    [picker] = fake_slack.modals(trainee.agent)
    fake_slack.rate_limit("conversations.info", retry_after=3)

    submitted = fake_slack.submit_view(
        trainee.agent,
        picker.id,
        {FAMILY_INPUT: "broken_promise", DIFFICULTY_INPUT: "mild", PLACE_INPUT: "channel"},
    )

    assert submitted.acked_within_deadline
    dm = fake_slack.dm_channel(trainee.agent)
    fake_slack.wait_until(
        lambda: any("can't post in this channel" in m.text for m in fake_slack.messages(dm)), 6
    )
    assert trainee.practice.active_session(TEAM, trainee.agent) is None


def test_a_top_level_dm_message_while_practising_points_to_the_thread(trainee, fake_slack):
    fake_slack.user_posts(trainee.agent, fake_slack.dm_channel(trainee.agent), "Hello?")
    fake_slack.wait_idle()
    assert fake_slack.ephemerals(user=trainee.agent) == []  # no session: nothing to say

    trainee.start(f"{SCENARIO} upset")
    trainee.ephemeral_saying("Your practice session has started")
    fake_slack.user_posts(trainee.agent, trainee.where, "I'm so sorry about this.")

    pointer = trainee.ephemeral_saying("reply in the thread of your practice message")
    assert trainee.thread_ts.replace(".", "") in pointer
    assert len(trainee.customer_messages()) == 1


def test_a_huge_practice_reply_is_answered_with_a_note(trainee) -> None:
    trainee.start(f"{SCENARIO} upset")
    trainee.ephemeral_saying("Your practice session has started")

    trainee.reply(GOOD_REPLIES[0] + " More." * 8000)

    assert "first 4,000 characters" in trainee.ephemeral_saying("Your reply was long")


def test_a_scorecard_whose_job_was_lost_is_posted_by_the_next_tick_once(
    trainee, running_bot, fake_slack
):
    trainee.start(f"{SCENARIO} upset")
    services = running_bot.services
    # The session ends, but the job that would post its scorecard is lost with the queue.
    services.practice.end(TEAM, trainee.agent)
    with services.db.session() as session:
        ended = session.get(PracticeSession, trainee.session().id)
        ended.ended_at -= timedelta(minutes=5)

    services.enqueue(IdlePracticeDue())
    trainee.scorecard()
    services.enqueue(IdlePracticeDue())  # a later tick owes it nothing
    fake_slack.wait_until(running_bot.jobs_done, TIMEOUT)

    assert sum(is_scorecard(m) for m in trainee.thread()) == 1
