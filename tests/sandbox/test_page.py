"""The sandbox page itself, in a real browser: feedback for an empty message, an icon for the
tab, and glyphs that show on a computer without a colour-emoji font."""

from __future__ import annotations

import re
from urllib.request import urlopen

import pytest

pytestmark = pytest.mark.browser

# Emoji the page's own furniture used to be drawn with (empty boxes without a colour font).
PAGE_EMOJI = re.compile("[\U0001f4ac\U0001f3e0\U0001f441\U0001f642\u26a1\u2715]")


def test_an_empty_message_says_why_nothing_was_sent(page) -> None:
    box = page.get_by_test_id("message-box")
    box.fill("   ")
    box.press("Enter")

    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "empty message is not sent" in toast.inner_text()
    assert box.input_value() == "" and box.evaluate("b => b === document.activeElement")


def test_the_page_and_its_icon_load_without_a_404(browser, sandbox_url) -> None:
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(sandbox_url)
    page.wait_for_function("() => state !== null")
    page.goto(sandbox_url + "favicon.ico")
    context.close()

    assert failed == []
    with urlopen(sandbox_url + "favicon.ico") as response:
        assert response.headers["Content-Type"] == "image/svg+xml"
        assert response.read().startswith(b"<svg")


def test_the_pages_icons_need_no_emoji_font_and_a_missing_one_is_named(page) -> None:
    page.wait_for_function("() => state !== null")
    page.get_by_test_id("nav-support").click()
    furniture = page.locator(".sidebar").inner_text() + page.locator("#pane-head").inner_text()
    assert not PAGE_EMOJI.search(furniture)
    assert page.locator(".sidebar svg.icon-svg").count() >= 2

    page.get_by_test_id("message").first.hover()
    page.get_by_test_id("react").first.click()
    picker = page.locator("#popover")
    colour = page.evaluate("COLOUR_EMOJI")
    note = page.get_by_test_id("emoji-note")
    if colour:
        assert note.is_hidden() and ":teacher:" not in picker.inner_text()
    else:  # this computer draws emoji as empty boxes: say so, and show their names
        assert note.is_visible() and "colour-emoji font" in note.inner_text()
        assert ":teacher:" in picker.inner_text() and ":+1:" in picker.inner_text()
