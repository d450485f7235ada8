"""The sandbox page in a real browser: Playwright driving Debian's Chromium at /usr/bin/chromium.

Playwright's own browser download is not used. Without /usr/bin/chromium (or the playwright
package) these tests are skipped, except under CI=true, where that is a failure. Each test gets a
fresh sandbox (its own data folder) served on a free port. Screenshots of each journey's end go
to an artifacts folder (SANDBOX_ARTIFACTS, default a pytest temp folder); with
SANDBOX_SCREENSHOTS=docs/screenshots they also refresh the README's screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from bot.sandbox.server import SandboxServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    problem = _missing()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI=true: the browser tests must run)", pytrace=False)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path / "asap-sandbox")
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox_url(sandbox: Sandbox) -> Iterator[str]:
    server = SandboxServer(sandbox)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def page(browser, sandbox_url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(10_000)
    page.goto(sandbox_url)
    yield page
    context.close()
    assert errors == [], f"errors on the page: {errors}"


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("SANDBOX_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("sandbox-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(artifacts: Path):
    def take(page, name: str) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path))
        docs = os.environ.get("SANDBOX_SCREENSHOTS")
        if docs:
            Path(docs).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(docs) / f"{name}.png"))
        return path

    return take
