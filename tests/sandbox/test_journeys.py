"""The three journeys of the sandbox page, in a real browser, through the real bot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from bot.coaching.practice.scenarios import load_scenarios

pytestmark = pytest.mark.browser

GOOD_REPLY = (
    "I'm so sorry, that's really frustrating and it's on us. I'll send a replacement today and "
    "email you the tracking number by 5pm."
)
BETTER_REPLY = (
    "I completely understand how upsetting this is. I've booked the courier for tomorrow "
    "morning and I'll call you at 10am to confirm it's on its way."
)


def act_as(page, persona: str) -> None:
    page.get_by_test_id("persona").select_option(persona)
    page.wait_for_function(f"() => state && state.as === '{persona}'")


def send(page, text: str, box: str = "message-box") -> None:
    page.get_by_test_id(box).fill(text)
    page.get_by_test_id(box).press("Enter")


def scroll_to(locator) -> None:
    """Scroll to what the locator finds; the page redraws a conversation whenever something in
    it changes (the bot's jobs post just after one another), so try again on a fresh element."""
    for _ in range(10):
        try:
            locator.scroll_into_view_if_needed(timeout=1000)
            return
        except PlaywrightError:
            locator.page.wait_for_timeout(100)
    locator.scroll_into_view_if_needed()


def test_practice_moves_the_mood_meter_and_ends_with_a_scorecard(page, screenshot) -> None:
    act_as(page, "ana")
    send(page, "/practice")
    modal = page.get_by_test_id("modal")
    modal.locator("select").select_option(index=1)
    modal.get_by_test_id("modal-submit").click()
    page.get_by_test_id("nav-dm").click()
    card = page.get_by_test_id("message").filter(has_text="Practice").first
    card.get_by_test_id("replies").click()
    thread = page.locator("#thread")
    meters = thread.locator("text=/\\d+\\/100/")
    meters.first.wait_for()

    send(page, GOOD_REPLY, box="thread-box")
    page.wait_for_function("() => document.querySelectorAll('#thread .msg').length >= 4")
    send(page, BETTER_REPLY, box="thread-box")
    page.wait_for_function("() => document.querySelectorAll('#thread .msg').length >= 6")
    moods = [int(m) for m in re.findall(r"Anger\s+(\d+)/100", thread.inner_text())]
    assert len(moods) >= 3 and moods[-1] < moods[0], moods
    # The meter is drawn with CSS, not emoji, so it shows without a colour-emoji font.
    last_meter = thread.locator(".block-context").last
    assert last_meter.locator(".glyph.square").count() == 5
    assert "\U0001f7e5" not in thread.inner_text() and "\u2b1c" not in thread.inner_text()

    if "Scorecard" not in page.locator("#thread").inner_text():
        send(page, "/practice end")
    thread.get_by_text(re.compile("Scorecard")).first.wait_for()
    # No phantom offer: the customer names back only the card's offers the replies made.
    title = card.locator(".block-header").inner_text().removeprefix("Practice: ")
    scenario = next(s for s in load_scenarios().scenarios.values() if s.title == title)
    made = {h.index for reply in (GOOD_REPLY, BETTER_REPLY) for h in scenario.offers_made(reply)}
    customer = " ".join(
        thread.locator(".msg").filter(has=page.locator(".glyph.square")).all_inner_texts()
    ).lower()
    for index, offer in enumerate(scenario.offers.may):
        if index not in made:
            assert offer.said.lower() not in customer, offer.said
    scroll_to(thread.get_by_text("calmer by").last)
    screenshot(page, "practice")


def test_a_coaching_reaction_then_a_dispute_reaches_the_leads_home_tab_and_is_resolved(
    page, screenshot
) -> None:
    act_as(page, "lee")
    page.get_by_test_id("nav-support").click()
    root = page.get_by_test_id("message").filter(has_text="birthday present")
    root.get_by_test_id("replies").click()
    poor = page.locator("#thread [data-testid=message]").filter(has_text="Calm down")
    poor.hover()
    poor.get_by_test_id("react").click()
    page.get_by_test_id("emoji-teacher").click()
    poor.get_by_test_id("reaction-teacher").wait_for()

    act_as(page, "ana")
    page.get_by_test_id("nav-dm").click()
    critique = page.locator("#messages [data-testid=message]").filter(has_text="Calm down").last
    critique.locator("blockquote").first.wait_for()  # evidence quotes from the reply
    scroll_to(critique.get_by_text("Calm down").first)
    screenshot(page, "critique")
    critique.get_by_role("button", name="Dispute").click()
    modal = page.get_by_test_id("modal")
    modal.locator("textarea").fill("I was quoting our shipping policy, not brushing her off.")
    modal.get_by_test_id("modal-submit").click()
    modal.locator("textarea").wait_for(state="detached")  # the app answers in the modal
    page.keyboard.press("Escape")
    page.locator("#overlay").wait_for(state="hidden")

    act_as(page, "lee")
    page.get_by_test_id("nav-home").click()
    home = page.get_by_test_id("home")
    home.get_by_text("not brushing her off").wait_for()
    assert "Apologize 0/2 · Sympathize 0/2" in home.inner_text()
    screenshot(page, "dispute")

    # The entry links the message: it opens in its thread, as a Slack permalink would.
    home.get_by_role("link", name="this message").click()
    page.locator("#thread").get_by_text("Calm down").first.wait_for()

    page.get_by_test_id("nav-home").click()
    home.get_by_role("button", name="Disagree: tell them why").click()
    modal = page.get_by_test_id("modal")
    modal.locator("textarea").fill("“Calm down” tells her how to feel. Start with the party.")
    modal.get_by_test_id("modal-submit").click()
    page.locator("#overlay").wait_for(state="hidden")
    home.get_by_text("1 disagreed").wait_for()

    act_as(page, "ana")
    page.get_by_test_id("nav-dm").click()
    page.locator("#messages").get_by_text("Start with the party").wait_for()


def test_todays_reminder_is_posted_once_with_the_demo_figures(page, screenshot) -> None:
    act_as(page, "lee")
    page.get_by_test_id("nav-team").click()
    page.get_by_test_id("remind-now").click()
    reminder = page.get_by_test_id("message").filter(has_text="How did we make our customers feel")
    reminder.wait_for()
    assert "Customer threads opened: 6" in reminder.inner_text()

    page.get_by_test_id("remind-now").click()
    page.get_by_text("already sent").wait_for()
    assert reminder.count() == 1
    screenshot(page, "reminder")


def tab_to(page, target) -> None:
    """Press Tab, as a keyboard user does, until `target` has the focus."""
    page.get_by_test_id("nav-support").focus()
    for _ in range(100):
        page.keyboard.press("Tab")
        if target.evaluate("node => node === document.activeElement"):
            return
    pytest.fail("Tab never reached it")


def test_a_keyboard_reaches_a_messages_reactions_and_menu(page) -> None:
    act_as(page, "lee")
    page.get_by_test_id("nav-support").click()
    page.mouse.move(0, 0)  # no hover: only the keyboard shows the toolbar
    first = page.locator("#messages [data-testid=message]").first
    tools = first.locator(".tools")
    shown = "t => getComputedStyle(t).display !== 'none' && getComputedStyle(t).opacity === '1'"
    assert not tools.evaluate(shown)

    tab_to(page, first.get_by_test_id("react"))
    assert tools.evaluate(shown)  # shown while focused
    page.keyboard.press("Enter")
    page.get_by_test_id("emoji-+1").wait_for()
    page.keyboard.press("Tab")  # from the picker's first emoji to :+1:
    page.keyboard.press("Enter")
    first.get_by_test_id("reaction-+1").wait_for()

    tab_to(page, first.get_by_test_id("more"))
    page.keyboard.press("Enter")
    page.get_by_test_id("shortcut-critique_message").wait_for()
