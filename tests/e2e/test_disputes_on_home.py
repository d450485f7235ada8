"""A dispute, end to end: the agent disputes a critique, the lead sees it on the Home tab with
the message's link, the scores and the agent's words, and resolves it. Agree: the stored scores
are corrected and the reply is kept as a calibration label; Disagree: the agent is told why.
The real bolt app over HTTP against the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.blocks.critique import DISPUTE_ACTION, DISPUTE_INPUT
from bot.blocks.disputes import AGREE_ACTION, DISAGREE_ACTION, REASON_INPUT, TRIGGER_INPUT
from bot.coaching.disputes import exported_labels
from bot.fakes.slack import FakeSlack, Message, View
from bot.store.models import ChannelSettings, Workspace
from bot.store.models import Critique as CritiqueRow
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

TEAM = "T0FAKE"
CUSTOMER_TEXT = "My refund is three weeks late and nobody answers my emails!"
REPLY = "As per our policy refunds take 30 days. Sorry <!channel>, I'll check it today."
STEPS = ("apologize", "sympathize", "responsibility", "act")
WAIT = 5.0


class Team:
    """#support, watched, in a workspace that stores reply text; an agent and a lead."""

    def __init__(self, fake: FakeSlack, bot: RunningBot, *, store_text: bool = True) -> None:
        self.fake, self.db = fake, bot.services.db
        self.customer = fake.add_user("customer")
        self.agent = fake.add_user("ana")
        self.lead = fake.add_user("lee", is_admin=True)
        self.channel = fake.add_channel("support", members=[self.customer, self.agent, self.lead])
        with self.db.session() as session:
            session.add(ChannelSettings(team_id=TEAM, channel_id=self.channel, watched=True))
            session.add(
                Workspace(
                    team_id=TEAM, store_reply_text=store_text, team_user_ids=[], admin_user_ids=[]
                )
            )

    def disputed_reply(self, comment: str = "I did apologise") -> str:
        """The agent's reply, critiqued at the lead's reaction and disputed; its ts."""
        root = self.fake.user_posts(self.customer, self.channel, CUSTOMER_TEXT)
        ts = self.fake.user_posts(self.agent, self.channel, REPLY, thread_ts=root)
        dms_before = len(self.fake.dm_messages(self.agent))
        self.fake.user_reacts(self.lead, self.channel, ts, "teacher")
        self.fake.wait_until(lambda: len(self.fake.dm_messages(self.agent)) > dms_before, WAIT)
        critique = self.fake.dm_messages(self.agent)[-1]
        self.fake.click(self.agent, critique, DISPUTE_ACTION)
        form = self.top_modal(self.agent)
        assert self.fake.submit_view(self.agent, form.id, {DISPUTE_INPUT: comment}).outcome
        return ts

    def top_modal(self, user: str) -> View:
        self.fake.wait_until(lambda: self.fake.modals(user), WAIT)
        return self.fake.modals(user)[-1]

    def open_home(self, user: str) -> tuple[View, str]:
        published = len(self.fake.calls("views.publish"))
        self.fake.open_home(user)
        self.fake.wait_until(lambda: len(self.fake.calls("views.publish")) > published, WAIT)
        home = self.fake.home(user)
        return home, json.dumps(home.blocks, ensure_ascii=False)

    def stored_scores(self) -> dict[str, int]:
        with self.db.session() as session:
            row = session.scalars(select(CritiqueRow)).one()
            return {step: getattr(row, step) for step in STEPS}

    def agent_dm_after(self, count: int) -> Message:
        self.fake.wait_until(lambda: len(self.fake.dm_messages(self.agent)) > count, WAIT)
        return self.fake.dm_messages(self.agent)[-1]


@pytest.fixture
def team(running_bot: RunningBot, fake_slack: FakeSlack) -> Team:
    return Team(fake_slack, running_bot)


def test_the_lead_sees_the_dispute_and_agreeing_corrects_the_scores(team: Team) -> None:
    ts = team.disputed_reply()
    engine_scores = team.stored_scores()

    home, shown = team.open_home(team.lead)
    link = f"https://slack.com/archives/{team.channel}/p{ts.replace('.', '')}"
    assert f"<{link}|this message>" in shown
    assert "“I did apologise”" in shown
    assert f"Apologize {engine_scores['apologize']}/2" in shown
    assert "> As per our policy refunds take 30 days. Sorry &lt;!channel&gt;" in shown

    team.fake.click(team.lead, home, AGREE_ACTION)
    form = team.top_modal(team.lead)
    assert form.callback_id == "dispute_agree_form"
    dms = len(team.fake.dm_messages(team.agent))
    corrected = {"apologize": "2", "sympathize": "0", "responsibility": "1", "act": "2"}
    submitted = team.fake.submit_view(team.lead, form.id, {**corrected, TRIGGER_INPUT: "1"})

    assert submitted.outcome == "view_closed"
    told = team.agent_dm_after(dms)
    assert f"<@{team.lead}> agreed with your dispute" in told.text
    assert "Its scores are now Apologize 2/2 · Sympathize 0/2" in told.text
    assert team.stored_scores() == {step: int(level) for step, level in corrected.items()}
    [label] = exported_labels(team.db, TEAM).lines
    assert label["agent_reply"] == REPLY
    assert (label["apologize"], label["act"], label["trigger"]) == (2, 2, 1)
    team.fake.wait_until(lambda: "Resolved disputes*: 1 agreed" in _home_text(team), WAIT)
    assert "No disputed critique is waiting for you." in _home_text(team)


def test_disagreeing_tells_the_agent_why_and_keeps_the_scores(team: Team) -> None:
    team.disputed_reply()
    before = team.stored_scores()
    home, _ = team.open_home(team.lead)

    team.fake.click(team.lead, home, DISAGREE_ACTION)
    form = team.top_modal(team.lead)
    blank = team.fake.submit_view(team.lead, form.id, {REASON_INPUT: "   "})
    assert blank.outcome == "errors"  # the form stays open, asking why
    dms = len(team.fake.dm_messages(team.agent))
    reason = "The apology came after the policy line, so it reads as a formality."
    assert team.fake.submit_view(team.lead, form.id, {REASON_INPUT: reason}).outcome == (
        "view_closed"
    )

    told = team.agent_dm_after(dms)
    assert f"<@{team.lead}> looked at your dispute" in told.text
    assert f"> {reason}" in told.text
    assert team.stored_scores() == before
    assert exported_labels(team.db, TEAM).lines == []
    team.fake.wait_until(lambda: "1 disagreed" in _home_text(team), WAIT)


def test_a_resolved_dispute_is_not_resolved_again(team: Team) -> None:
    team.disputed_reply()
    home, _ = team.open_home(team.lead)  # drawn while the dispute was open
    team.fake.click(team.lead, home, DISAGREE_ACTION)
    form = team.top_modal(team.lead)
    team.fake.submit_view(team.lead, form.id, {REASON_INPUT: "It stands."})
    team.fake.wait_until(lambda: "1 disagreed" in _home_text(team), WAIT)

    with pytest.raises(LookupError):  # the buttons are gone from the tab
        team.fake.click(team.lead, team.fake.home(team.lead), AGREE_ACTION)


def test_only_admins_may_resolve(team: Team) -> None:
    """A listed admin opens the tab, then loses the role before submitting."""
    deputy = team.fake.add_user("dee")
    _set_listed_admins(team, [deputy])
    team.disputed_reply()
    home, shown = team.open_home(deputy)
    assert "Agree: correct the scores" in shown
    team.fake.click(deputy, home, AGREE_ACTION)
    form = team.top_modal(deputy)
    _set_listed_admins(team, [])

    levels = {step: "2" for step in STEPS}
    team.fake.submit_view(deputy, form.id, {**levels, TRIGGER_INPUT: "0"})

    team.fake.wait_until(lambda: team.fake.dm_messages(deputy), WAIT)
    assert team.fake.dm_messages(deputy)[-1].text == "Only the bot's admins can resolve disputes."
    assert exported_labels(team.db, TEAM).lines == []


def test_without_stored_text_the_entry_says_so(running_bot: RunningBot, fake_slack) -> None:
    team = Team(fake_slack, running_bot, store_text=False)
    team.disputed_reply()
    _, shown = team.open_home(team.lead)
    assert "this workspace does not store reply text" in shown
    assert "As per our policy" not in shown


def _home_text(team: Team) -> str:
    return json.dumps(team.fake.home(team.lead).blocks, ensure_ascii=False)


def _set_listed_admins(team: Team, admins: list[str]) -> None:
    with team.db.session() as session:
        session.get(Workspace, TEAM).admin_user_ids = admins
