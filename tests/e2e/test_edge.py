"""The HTTP edge of the served bot: rejected requests are logged without their body, bodies over
the limit are refused before they are read, and malformed ones get 400 (Slack retries a 5xx)."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import pytest

from bot.app import build_app
from bot.fakes.slack import FakeSlack
from bot.web import MAX_BODY_BYTES, Probes, build_wsgi_app
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TEXT = "my card was charged twice and nobody answers"
RESPONSE_URL = "https://hooks.slack.com/commands/T0FAKE/1234/s3cr3tR3sp0ns3"


def _slash_command(agent: str, channel: str) -> bytes:
    return (
        f"command=%2Fpractice&text={TEXT.replace(' ', '+')}&user_id={agent}&channel_id={channel}"
        f"&team_id=T0FAKE&response_url={RESPONSE_URL.replace(':', '%3A').replace('/', '%2F')}"
        "&trigger_id=1.2.3"
    ).encode()


@pytest.mark.parametrize("forgery", ["bad-signature", "stale-timestamp"])
def test_a_rejected_request_is_logged_without_its_body(
    running_bot, fake_slack: FakeSlack, caplog, forgery
) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])
    body = _slash_command(agent, channel)
    if forgery == "bad-signature":
        headers = {**fake_slack.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    else:
        headers = fake_slack.sign(body, timestamp=int(time.time()) - 6 * 60)

    with caplog.at_level(logging.DEBUG):
        delivery = fake_slack.post_to_app(body, content_type=FORM, headers=headers)

    assert delivery.status == 401
    assert "Invalid request signature" in caplog.text  # still logged, so it can be noticed
    for secret in (TEXT, "charged+twice", "s3cr3tR3sp0ns3", "hooks.slack.com"):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"type": "event_callback", "event": {"type": "mess', JSON, id="bad-json"),
        pytest.param(b"[1, 2, 3]", JSON, id="json-not-an-object"),
        pytest.param(b'{"type": "event_callback", "text": "caf\xe9"}', JSON, id="latin-1-json"),
        pytest.param(b"command=%2Fpractice&text=\xff\xfe", FORM, id="non-utf-8-form"),
        pytest.param(b"payload=%7Bnot+json", FORM, id="payload-not-json"),
        pytest.param(b"token=abc&team_id=T0FAKE", FORM, id="form-without-payload"),
        pytest.param(b"", JSON, id="empty"),
    ],
)
def test_a_malformed_signed_body_gets_400_and_does_nothing(
    running_bot, fake_slack: FakeSlack, body: bytes, content_type: str
) -> None:
    delivery = fake_slack.post_to_app(body, content_type=content_type)

    assert delivery.status == 400
    assert [call for call in fake_slack.calls() if call.method != "auth.test"] == []


def test_well_formed_forms_still_reach_the_app(running_bot, fake_slack: FakeSlack) -> None:
    agent = fake_slack.add_user("agent")
    channel = fake_slack.add_channel("support", members=[agent])

    delivery = fake_slack.send_command(agent, channel, "/practice", "help")
    ssl_check = fake_slack.post_to_app(b"ssl_check=1&token=abc", content_type=FORM)

    assert delivery.status == 200 and delivery.outcome == "ephemeral"
    assert ssl_check.status == 200


def test_a_body_over_the_limit_is_refused_before_it_is_sent(running_bot: RunningBot) -> None:
    """The server answers 413 on the headers alone: it never waits for the body."""
    address = urlsplit(running_bot.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {2 * 1024 * 1024}\r\n\r\n".encode()
        )
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


class _UnreadableInput(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def test_the_wsgi_app_refuses_a_large_body_whatever_server_runs_it(running_bot) -> None:
    application = build_wsgi_app(
        Probes(running_bot.services, stopped=lambda: None),
        build_app(running_bot.services),
    )
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": JSON,
        "CONTENT_LENGTH": str(MAX_BODY_BYTES + 1),
        "wsgi.input": _UnreadableInput(),
    }

    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))

    assert statuses == ["413 Content Too Large"]
    assert json.loads(body) == {"error": "body too large"}
