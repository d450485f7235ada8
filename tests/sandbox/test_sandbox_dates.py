"""The sandbox's day is the bot's day: what the Home tab dates, what the daily reminder counts as
yesterday, and what the page says about today's reminder after a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.sandbox import Sandbox
from bot.sandbox.server import SandboxPage
from bot.store.models import PracticeSession
from tests.sandbox.demo import critique_the_calm_down_reply

WAIT = 10.0
SCENARIO = "airline-refund-eight-weeks"


@pytest.fixture
def page(sandbox: Sandbox) -> SandboxPage:
    return SandboxPage(sandbox)


def start_practice(sandbox: Sandbox, page: SandboxPage) -> None:
    ana = sandbox.workspace.users["ana"]
    dm = sandbox.workspace.dms[ana]
    page.act("command", {"as": "ana", "channel": dm, "text": f"/practice {SCENARIO}"})

    def started() -> bool:
        with sandbox.services.db.session() as session:
            return bool(session.scalar(select(func.count()).select_from(PracticeSession)))

    sandbox.fake.wait_until(started, WAIT)
    sandbox.fake.wait_idle(timeout=5)


def test_the_home_tab_dates_what_was_done_on_the_sandbox_day(
    sandbox: Sandbox, page: SandboxPage
) -> None:
    sandbox.advance_to_tomorrow()
    critique_the_calm_down_reply(sandbox, page)
    start_practice(sandbox, page)

    ana = sandbox.workspace.users["ana"]
    page.act("home", {"as": "ana"})
    sandbox.fake.wait_until(lambda: sandbox.fake.home(ana) is not None, WAIT)
    home = json.dumps(sandbox.fake.home(ana).blocks, ensure_ascii=False)
    day = sandbox.clock.day.isoformat()
    assert f"• {day}: `{SCENARIO}`" in home
    assert f"• {day} in <#{sandbox.workspace.support}>" in home


def test_a_critique_and_practice_of_today_are_not_in_yesterdays_figures(
    sandbox: Sandbox, page: SandboxPage
) -> None:
    critique_the_calm_down_reply(sandbox, page)
    start_practice(sandbox, page)

    assert sandbox.send_todays_reminder() == {"sent": 1}
    [reminder] = page.state("lee")["conversations"][sandbox.workspace.team]["messages"]
    shown = json.dumps(reminder["blocks"])
    assert "Customer threads opened: *6*" in shown  # yesterday's demo conversations
    assert "Critiques: *0*" in shown
    assert "Practice sessions: *0*" in shown


def test_after_a_restart_the_page_says_todays_reminder_went_out_before_it(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(tmp_path / "data")
    sandbox.start()
    try:
        answer = SandboxPage(sandbox).act("remind", {})
        assert answer["said"] == "Today's reminder was posted in #team."
        assert (
            SandboxPage(sandbox)
            .act("remind", {})["said"]
            .startswith("Today's reminder was already sent: it is in #team")
        )
    finally:
        sandbox.stop()

    sandbox = Sandbox(tmp_path / "data")
    sandbox.start()
    try:
        page = SandboxPage(sandbox)
        assert page.state("lee")["conversations"][sandbox.workspace.team]["messages"] == []
        answer = page.act("remind", {})
        assert answer["outcomes"] == {}
        assert "before the sandbox restarted" in answer["said"]
        assert "Advance to tomorrow" in answer["said"]
        answer = page.act("tomorrow", {})
        assert answer["said"].endswith("Today's reminder was posted in #team.")
    finally:
        sandbox.stop()
