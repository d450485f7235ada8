"""The sandbox page marks a conversation unread when someone else posts in it while you look
elsewhere, as Slack's sidebar does: starting practice from the picker in #support leaves a
confirmation there and the DM, where the customer is waiting, marked."""

from __future__ import annotations

import pytest

from tests.sandbox.test_journeys import act_as, send

pytestmark = pytest.mark.browser


def test_practice_from_the_picker_is_confirmed_and_marks_the_dm_unread(page) -> None:
    act_as(page, "ana")
    page.get_by_test_id("nav-support").click()
    dm = page.get_by_test_id("nav-dm")
    assert dm.get_by_test_id("unread").count() == 0  # what was there before is not new

    send(page, "/practice")
    modal = page.get_by_test_id("modal")
    modal.locator("select").select_option(index=1)
    modal.get_by_test_id("modal-submit").click()

    confirmation = page.get_by_test_id("ephemeral").filter(has_text="practice session has started")
    confirmation.wait_for()
    dm.get_by_test_id("unread").wait_for()
    assert dm.get_by_test_id("unread").inner_text() == "1"
    assert "unread" in (dm.get_attribute("class") or "")

    dm.click()
    dm.get_by_test_id("unread").wait_for(state="detached")
    page.get_by_test_id("message").filter(has_text="Practice").first.wait_for()


def test_someone_elses_message_marks_the_channel_and_your_own_does_not(page) -> None:
    act_as(page, "lee")
    page.get_by_test_id("nav-team").click()
    act_as(page, "ana")
    page.get_by_test_id("nav-support").click()
    send(page, "Hello team")
    page.get_by_test_id("message").filter(has_text="Hello team").wait_for()
    page.get_by_test_id("nav-team").click()
    assert page.get_by_test_id("nav-support").get_by_test_id("unread").count() == 0

    act_as(page, "lee")  # he was looking at #team when Ana wrote in #support
    page.get_by_test_id("nav-support").get_by_test_id("unread").wait_for()
    assert page.get_by_test_id("nav-team").get_by_test_id("unread").count() == 0
