"""The sandbox without a browser: its set-up, bad input answered as Slack would, restarts and
reset. The page's requests are made through `SandboxPage`, as the server makes them."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
import time
import webbrowser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import pytest
import yaml
from sqlalchemy import select

from bot.blocks.critique import USEFUL_ACTION
from bot.cli import build_parser
from bot.cli.sandbox import open_browser
from bot.sandbox import Sandbox
from bot.sandbox.runtime import EVENT_TYPES
from bot.sandbox.server import BadRequest, SandboxPage
from bot.store.models import CritiqueFeedback, FeedbackKind
from tests.sandbox.demo import critique_the_calm_down_reply

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"


@pytest.fixture
def page(sandbox: Sandbox) -> SandboxPage:
    return SandboxPage(sandbox)


def texts(page: SandboxPage, who: str, channel: str) -> list[str]:
    conversation = page.state(who)["conversations"][channel]
    return [m["text"] for m in conversation["messages"]] + [
        e["text"] for e in conversation["ephemerals"]
    ]


def test_the_sandbox_subscribes_to_the_events_of_the_manifest() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(EVENT_TYPES) == set(manifest["settings"]["event_subscriptions"]["bot_events"])


def test_support_starts_with_the_demo_conversations_and_set_up_is_not_shown(
    sandbox: Sandbox, page: SandboxPage
) -> None:
    state = page.state("lee")
    support = state["conversations"][sandbox.workspace.support]
    assert len(support["messages"]) == 6 and support["ephemerals"] == []
    assert any(m["replies"] for m in support["messages"])
    assert [c["name"] for c in page.state("casey")["channels"]] == ["support", "ASAP Coach"]


def test_bad_input_is_answered_as_slack_would(sandbox: Sandbox, page: SandboxPage) -> None:
    support = sandbox.workspace.support
    with pytest.raises(BadRequest, match="not a valid command"):
        page.act("command", {"as": "ana", "channel": support, "text": "/nope"})
    with pytest.raises(BadRequest, match="empty"):
        page.act("post", {"as": "ana", "channel": support, "text": "   "})
    with pytest.raises(BadRequest, match="nobody"):
        page.act("post", {"as": "mallory", "channel": support, "text": "hi"})

    long_text = "x" * 10_000
    page.act("post", {"as": "casey", "channel": support, "text": long_text})
    assert long_text in texts(page, "casey", support)

    page.act("command", {"as": "ana", "channel": support, "text": "/practice help"})
    sandbox.fake.wait_until(lambda: page.state("ana")["conversations"][support]["ephemerals"], 5)


def test_a_reaction_on_the_bots_message_and_a_double_click_answer_each_click(
    sandbox: Sandbox, page: SandboxPage
) -> None:
    team = sandbox.workspace.team
    sandbox.send_todays_reminder()
    [reminder] = page.state("lee")["conversations"][team]["messages"]
    page.act("react", {"as": "lee", "channel": team, "ts": reminder["ts"], "name": "teacher"})
    sandbox.fake.wait_idle()
    target = {"kind": "message", "channel": team, "ts": reminder["ts"]}
    for _ in range(2):
        page.act("click", {"as": "lee", "target": target, "action_id": "practise_now"})
    sandbox.fake.wait_until(
        lambda: len(page.state("lee")["conversations"][team]["ephemerals"]) == 3, 5
    )
    conversation = page.state("lee")["conversations"][team]
    [reminder] = conversation["messages"]  # no critique of the bot's own message
    assert [r["name"] for r in reminder["reactions"]] == ["teacher"]
    answers = [e["text"] for e in conversation["ephemerals"]]  # in the order they arrived
    assert len(answers) == 3
    assert sum("only critique messages in the support channels" in a for a in answers) == 1
    hints = [a for a in answers if a.startswith("Ready when you are")]
    assert len(hints) == 2 and "/practice" in hints[0]  # each click answered, no error


def test_a_double_click_on_useful_stores_one_rating(sandbox: Sandbox, page: SandboxPage) -> None:
    ana = sandbox.workspace.users["ana"]
    dm = sandbox.workspace.dms[ana]
    critique_the_calm_down_reply(sandbox, page)

    def useful_button() -> tuple[str, str] | None:
        for message in page.state("ana")["conversations"][dm]["messages"]:
            for block in message["blocks"]:
                for element in block.get("elements", []):
                    if element.get("action_id") == USEFUL_ACTION:
                        return message["ts"], element["value"]
        return None

    sandbox.fake.wait_until(useful_button, 10)
    ts, value = useful_button() or ("", "")
    target = {"kind": "message", "channel": dm, "ts": ts}
    for _ in range(2):
        page.act(
            "click", {"as": "ana", "target": target, "action_id": USEFUL_ACTION, "value": value}
        )

    def answers() -> list[str]:
        return [e["text"] for e in page.state("ana")["conversations"][dm]["ephemerals"]]

    sandbox.fake.wait_until(lambda: len(answers()) == 2, 5)
    # Each click is answered by a job of its own: they may arrive in either order.
    assert sorted(answers()) == [
        "Thanks, noted. It helps tune the coaching.",
        "You already told us what you thought of this critique. Thanks!",
    ]
    with sandbox.services.db.session() as session:
        ratings = session.scalars(select(CritiqueFeedback)).all()
        assert [(r.user_id, r.critique_id, str(r.kind)) for r in ratings] == [
            (ana, int(value), str(FeedbackKind.useful))
        ]


def test_a_restart_keeps_the_bots_data_and_reset_starts_over(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "data")
    sandbox.start()
    try:
        assert sandbox.send_todays_reminder() == {"sent": 1}
        users = dict(sandbox.workspace.users)
    finally:
        sandbox.stop()

    sandbox = Sandbox(tmp_path / "data")
    sandbox.start()
    try:
        assert "Restarted" in sandbox.notice
        assert sandbox.workspace.users == users  # the same ids: the database still fits
        assert sandbox.send_todays_reminder() == {}  # already sent today, says the database
        assert (
            len(
                SandboxPage(sandbox).state("lee")["conversations"][sandbox.workspace.support][
                    "messages"
                ]
            )
            == 6
        )

        sandbox.reset()
        assert "fresh" in sandbox.notice
        assert sandbox.send_todays_reminder() == {"sent": 1}
    finally:
        sandbox.stop()


def test_reset_deletes_only_the_files_the_sandbox_wrote(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "notes").mkdir(parents=True)
    (data / "notes" / "mine.txt").write_text("keep me")
    (data / "report.pdf").write_text("keep me too")
    sandbox = Sandbox(data)
    sandbox.start()
    try:
        sandbox.send_todays_reminder()
        sandbox.reset()
        assert "fresh" in sandbox.notice
        assert sandbox.send_todays_reminder() == {"sent": 1}  # the database did start over
    finally:
        sandbox.stop()
    assert (data / "notes" / "mine.txt").read_text() == "keep me"
    assert (data / "report.pdf").read_text() == "keep me too"


def test_the_sandbox_runs_the_practice_tick_of_asap_coach_run(sandbox: Sandbox) -> None:
    from bot.jobs import scheduler as ticks
    from bot.slack.practice_end import IdlePracticeDue

    scheduler = sandbox.scheduler
    assert scheduler is not None and scheduler.running
    [job] = scheduler.get_jobs()  # the reminders follow the sandbox's day, on its buttons
    assert job.func is ticks.enqueue_tick and isinstance(job.args[1], IdlePracticeDue)
    assert job.trigger.interval.total_seconds() == ticks.PRACTICE_TICK_SECONDS
    sandbox.reset()
    assert not scheduler.running and sandbox.scheduler is not scheduler
    assert sandbox.scheduler is not None and sandbox.scheduler.running


def test_advancing_a_day_sends_the_next_reminder(sandbox: Sandbox, page: SandboxPage) -> None:
    team = sandbox.workspace.team
    sandbox.send_todays_reminder()
    day = sandbox.clock.day
    assert sandbox.advance_to_tomorrow() == {"sent": 1}
    assert sandbox.clock.day > day
    assert len(page.state("lee")["conversations"][team]["messages"]) == 2


def test_the_page_is_served_on_loopback_only(sandbox_url: str) -> None:
    assert sandbox_url.startswith("http://127.0.0.1:")
    with urlopen(sandbox_url) as response:
        assert "Sandbox" in response.read().decode()
    for path in ("static/../runtime.py", "static/missing.js", "nothing"):
        with pytest.raises(HTTPError) as error:
            urlopen(sandbox_url + path)
        assert error.value.code == 404
    request = Request(
        sandbox_url + "api/command",
        data=json.dumps({"as": "ana", "channel": "C0", "text": "/nope"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urlopen(request) as response:
        answer = json.load(response)
    assert answer["ok"] is False and "not a valid command" in answer["error"]


@pytest.mark.parametrize("browser", ["none found", "raises", "opened"])
def test_without_a_browser_the_address_is_the_hint(
    browser: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_open(url: str) -> bool:
        if browser == "raises":
            raise webbrowser.Error("could not locate runnable browser")
        return browser == "opened"

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert open_browser("http://127.0.0.1:8765/") is (browser == "opened")
    err = capsys.readouterr().err
    if browser == "opened":
        assert err == ""
    else:
        assert "no browser" in err and "open http://127.0.0.1:8765/" in err


def test_the_command_line_knows_the_sandbox() -> None:
    args = build_parser().parse_args(["sandbox", "--no-browser", "--port", "0"])
    assert args.no_browser and args.port == 0 and args.data == Path("asap-sandbox")


def _request(
    url: str, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    """One plain HTTP request with exactly the headers given (Host included, if given)."""
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_another_site_cannot_use_the_sandbox(sandbox: Sandbox, sandbox_url: str) -> None:
    port = urlparse(sandbox_url).port
    own = f"http://127.0.0.1:{port}"
    sandbox.send_todays_reminder()
    body = json.dumps({}).encode()
    json_type = {"Content_Type": "application/json"}

    # DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own Host
    for path in ("/api/state?as=ana", "/", "/api/events"):
        assert _request(sandbox_url, "GET", path, Host=f"evil.example:{port}")[0] == 403
    assert _request(sandbox_url, "GET", "/api/state", Host="evil.example")[0] == 403
    assert (
        _request(sandbox_url, "POST", "/api/reset", body, Host="evil.example", **json_type)[0]
        == 403
    )
    # a form or a no-preflight fetch from another page: a foreign Origin or not JSON
    for headers in (
        {"Origin": "http://evil.example", "Content_Type": "text/plain"},
        {"Origin": "http://evil.example", **json_type},
        {"Origin": "null", **json_type},
        {"Origin": f"http://localhost:{port}", **json_type},  # not the page's own origin
        {"Content_Type": "text/plain"},
        {"Content_Type": "application/x-www-form-urlencoded"},
        {},
    ):
        assert _request(sandbox_url, "POST", "/api/reset", body, **headers)[0] == 403, headers
    assert sandbox.send_todays_reminder() == {}  # nothing was reset

    # the page itself, as 127.0.0.1 or localhost, and a client without an Origin (curl)
    assert _request(sandbox_url, "GET", "/api/state?as=ana")[0] == 200
    assert _request(sandbox_url, "GET", "/", Host=f"localhost:{port}")[0] == 200
    status, answer = _request(
        sandbox_url,
        "POST",
        "/api/remind",
        body,
        Origin=own,
        Content_Type="application/json; charset=utf-8",
    )
    assert status == 200 and json.loads(answer)["ok"] is True
    status, answer = _request(
        sandbox_url, "POST", "/api/reset", body, Host=f"localhost:{port}", **json_type
    )
    assert status == 200 and json.loads(answer) == {"ok": True}
    assert sandbox.send_todays_reminder() == {"sent": 1}


def test_a_bad_content_length_is_a_bad_request(sandbox_url: str) -> None:
    for length in ("ten", "-5", "1e3"):
        connection = http.client.HTTPConnection(urlparse(sandbox_url).netloc, timeout=10)
        try:
            connection.putrequest("POST", "/api/remind")
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", length)
            connection.endheaders(b"{}")
            response = connection.getresponse()
            assert response.status == 400, length
        finally:
            connection.close()


def test_a_client_gone_mid_request_is_no_error(
    sandbox_url: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    port = urlparse(sandbox_url).port
    for request in (
        f"POST /api/remind HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        f"GET /static/sandbox.js HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n",
    ):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(request.encode())
        time.sleep(0.2)
        # close with a reset, as a killed tab does
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    time.sleep(0.5)
    assert "Traceback" not in capsys.readouterr().err
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    with urlopen(sandbox_url + "api/state?as=ana") as response:
        assert response.status == 200  # still serving


def test_an_action_during_a_reset_waits_for_it(sandbox: Sandbox, page: SandboxPage) -> None:
    support = sandbox.workspace.support
    resetting, finish = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # as reset() does, while it stops and starts everything
        with sandbox._lock:
            resetting.set()
            finish.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    resetting.wait(5)
    answers: list[object] = []
    poster = threading.Thread(
        target=lambda: answers.append(
            page.act("post", {"as": "casey", "channel": support, "text": "still there?"})
        )
    )
    poster.start()
    poster.join(0.3)
    assert answers == []  # waiting for the reset
    finish.set()
    holder.join(5)
    poster.join(5)
    assert answers and answers[0]["ok"] is True
    assert "still there?" in texts(page, "casey", support)
