"""The fake Slack, driven by the real slack_sdk WebClient and a real bolt App served over HTTP."""

from __future__ import annotations

import ast
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

import bot.fakes
from bot.fakes.slack import Change, FakeSlack
from bot.fakes.slack.fake import RESPONSE_URL
from bot.fakes.slack.responses import ResponseTarget

SECRET = "test-signing-secret"


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(signing_secret=SECRET) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.bot_token)


@pytest.fixture
def alice(slack: FakeSlack) -> str:
    return slack.add_user("alice")


@pytest.fixture
def support(slack: FakeSlack, alice: str) -> str:
    return slack.add_channel("support", members=[alice])


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[App], str]]:
    """Serve bolt apps over real HTTP, as in production; returns each one's Request URL."""
    servers: list[WSGIServer] = []

    def start(app: App) -> str:
        server = make_server(
            "127.0.0.1",
            0,
            SlackRequestHandler(app),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/slack/events"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def bolt_app(slack: FakeSlack) -> App:
    return App(
        signing_secret=SECRET, client=WebClient(base_url=slack.api_url, token=slack.bot_token)
    )


# ------------------------------------------------------------------------------------ Web API


def test_posted_message_reads_back_through_state_and_history(
    slack: FakeSlack, client: WebClient, support: str
) -> None:
    posted = client.chat_postMessage(channel=support, text="Hello, team")

    assert posted["channel"] == support
    assert posted["message"]["bot_id"] == "BBOT" and posted["message"]["user"] == "UBOT"
    [message] = slack.messages(support)
    assert (message.ts, message.text, message.bot_id) == (posted["ts"], "Hello, team", "BBOT")
    history = client.conversations_history(channel=support)["messages"]
    assert [m["text"] for m in history] == ["Hello, team"]


def test_timestamps_are_slack_shaped_and_strictly_increasing(
    client: WebClient, support: str
) -> None:
    stamps = [client.chat_postMessage(channel=support, text=str(i))["ts"] for i in range(3)]

    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert [float(ts) for ts in stamps] == sorted({float(ts) for ts in stamps})


def test_fixed_clock_gives_reproducible_timestamps() -> None:
    with FakeSlack(clock=lambda: 1_700_000_000.0) as slack:
        channel = slack.add_channel("general")
        client = WebClient(base_url=slack.api_url, token=slack.bot_token)
        stamps = [client.chat_postMessage(channel=channel, text="x")["ts"] for _ in range(2)]

    assert stamps == ["1700000000.000000", "1700000000.000100"]


def test_thread_replies_paginate_with_cursors(
    slack: FakeSlack, client: WebClient, alice: str, support: str
) -> None:
    root = slack.user_posts(alice, support, "My customer is furious")
    replies = [
        client.chat_postMessage(channel=support, thread_ts=root, text=f"tip {i}")["ts"]
        for i in range(5)
    ]

    pages, cursor = [], None
    while True:
        page = client.conversations_replies(channel=support, ts=root, limit=2, cursor=cursor)
        pages.append([m["ts"] for m in page["messages"]])
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break

    assert pages == [[root, replies[0]], replies[1:3], replies[3:5]]
    first = client.conversations_replies(channel=support, ts=root)["messages"][0]
    assert first["reply_count"] == 5 and first["latest_reply"] == replies[-1]
    assert [m.text for m in slack.messages(support)] == ["My customer is furious"]


def test_history_is_newest_first_within_oldest_and_latest(client: WebClient, support: str) -> None:
    stamps = [client.chat_postMessage(channel=support, text=str(i))["ts"] for i in range(5)]

    page = client.conversations_history(channel=support, limit=2)
    rest = client.conversations_history(
        channel=support, limit=10, cursor=page["response_metadata"]["next_cursor"]
    )
    window = client.conversations_history(channel=support, oldest=stamps[0], latest=stamps[3])

    assert [m["ts"] for m in page["messages"]] == [stamps[4], stamps[3]] and page["has_more"]
    assert [m["ts"] for m in rest["messages"]] == stamps[2::-1] and not rest["has_more"]
    assert [m["ts"] for m in window["messages"]] == [stamps[2], stamps[1]]


def test_ephemerals_reach_only_their_user_and_stay_out_of_history(
    slack: FakeSlack, client: WebClient, alice: str, support: str
) -> None:
    bob = slack.add_user("bob")
    answer = client.chat_postEphemeral(channel=support, user=alice, text="Only you see this")

    [ephemeral] = slack.ephemerals(user=alice)
    assert (ephemeral.ts, ephemeral.channel, ephemeral.text) == (
        answer["message_ts"],
        support,
        "Only you see this",
    )
    assert slack.ephemerals(user=bob) == [] and slack.messages(support) == []
    with pytest.raises(SlackApiError, match="user_not_in_channel"):
        client.chat_postEphemeral(channel=support, user=bob, text="x")


def test_direct_messages_through_conversations_open_or_a_user_id(
    slack: FakeSlack, client: WebClient, alice: str
) -> None:
    dm = client.conversations_open(users=alice)["channel"]["id"]
    client.chat_postMessage(channel=dm, text="First")
    by_user_id = client.chat_postMessage(channel=alice, text="Second")

    assert dm.startswith("D") and by_user_id["channel"] == dm
    assert [m.text for m in slack.dm_messages(alice)] == ["First", "Second"]
    info = client.conversations_info(channel=dm)["channel"]
    assert info["is_im"] and info["user"] == alice


def test_update_delete_and_reactions(
    slack: FakeSlack, client: WebClient, alice: str, support: str
) -> None:
    ts = client.chat_postMessage(channel=support, text="draft")["ts"]
    client.chat_update(channel=support, ts=ts, text="final")
    client.reactions_add(channel=support, timestamp=ts, name="white_check_mark")

    [message] = slack.messages(support)
    assert message.text == "final" and message.edited_ts is not None
    assert message.reaction("white_check_mark").users == ("UBOT",)
    with pytest.raises(SlackApiError, match="already_reacted"):
        client.reactions_add(channel=support, timestamp=ts, name="white_check_mark")
    client.reactions_remove(channel=support, timestamp=ts, name="white_check_mark")
    with pytest.raises(SlackApiError, match="no_reaction"):
        client.reactions_remove(channel=support, timestamp=ts, name="white_check_mark")
    users_message = slack.user_posts(alice, support, "mine")
    with pytest.raises(SlackApiError, match="cant_update_message"):
        client.chat_update(channel=support, ts=users_message, text="hijacked")
    client.chat_delete(channel=support, ts=ts)
    assert [m.text for m in slack.messages(support)] == ["mine"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "CNOPE", "text": "x"}, "channel_not_found"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": ""}, "no_text"),
        ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [_section("x" * 3001)]}, "invalid_blocks"),
        ({"text": "x", "blocks": [_header("x" * 151)]}, "invalid_blocks"),
    ],
    ids=["unknown-channel", "text-over-40k", "no-text", "51-blocks", "long-section", "long-header"],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(
    client: WebClient, support: str, arguments: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(**{"channel": support, **arguments})

    assert caught.value.response["error"] == error


def test_invalid_blocks_explain_where(client: WebClient, support: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=support, text="x", blocks=[_header("x" * 151)])

    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_membership_and_archive_errors(slack: FakeSlack, client: WebClient, alice: str) -> None:
    outside = slack.add_channel("random", bot_is_member=False)
    secret = slack.add_channel("secret", members=[alice], is_private=True, bot_is_member=False)
    old = slack.add_channel("old")
    slack.archive_channel(old)

    for channel, error in [(outside, "not_in_channel"), (secret, "channel_not_found")]:
        with pytest.raises(SlackApiError, match=error):
            client.chat_postMessage(channel=channel, text="x")
    with pytest.raises(SlackApiError, match="is_archived"):
        client.chat_postMessage(channel=old, text="x")
    client.conversations_join(channel=outside)
    assert client.chat_postMessage(channel=outside, text="now I can")["ok"]
    again = client.conversations_join(channel=outside)
    assert again["warning"] == "already_in_channel"


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
def test_bad_tokens(slack: FakeSlack, token: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        WebClient(base_url=slack.api_url, token=token).auth_test()

    assert caught.value.response["error"] == error


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("chat.teleport")


def test_identity_and_directory_methods(slack: FakeSlack, client: WebClient, alice: str) -> None:
    leads = slack.add_usergroup("support-leads", [alice])

    auth = client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0FAKE", "UBOT", "BBOT")
    assert client.users_info(user=alice)["user"]["name"] == "alice"
    assert client.usergroups_users_list(usergroup=leads)["users"] == [alice]
    assert client.team_info()["team"]["id"] == "T0FAKE"
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="UNOBODY")


def test_every_call_is_recorded(slack: FakeSlack, client: WebClient, support: str) -> None:
    client.chat_postMessage(channel=support, text="one")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="CNOPE", text="two")

    calls = slack.calls("chat.postMessage")
    assert [c.params["text"] for c in calls] == ["one", "two"]
    assert [c.error for c in calls] == [None, "channel_not_found"]


def test_rate_limit_is_retried_by_slack_sdk(
    slack: FakeSlack, client: WebClient, support: str
) -> None:
    slack.rate_limit("chat.postMessage", retry_after=1)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    started = time.monotonic()
    client.chat_postMessage(channel=support, text="eventually")

    assert time.monotonic() - started >= 1.0
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 200]
    assert [m.text for m in slack.messages(support)] == ["eventually"]


def test_rate_limit_without_a_retry_handler_surfaces(
    slack: FakeSlack, client: WebClient, alice: str
) -> None:
    slack.rate_limit_tier("users.info", calls_per_minute=2)
    client.users_info(user=alice)
    client.users_info(user=alice)

    with pytest.raises(SlackApiError) as caught:
        client.users_info(user=alice)

    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert int(caught.value.response.headers["Retry-After"]) > 0


def test_an_outage_answers_5xx_then_slack_recovers(
    slack: FakeSlack, client: WebClient, support: str
) -> None:
    slack.fail("chat.postMessage", status=503, times=1)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=support, text="lost")
    client.chat_postMessage(channel=support, text="kept")

    assert caught.value.response.status_code == 503
    assert [m.text for m in slack.messages(support)] == ["kept"]


def test_a_revoked_bot_token_is_refused(slack: FakeSlack, client: WebClient) -> None:
    slack.revoke_bot_token()

    with pytest.raises(SlackApiError, match="invalid_auth"):
        client.auth_test()


def test_a_response_url_can_be_rate_limited(slack: FakeSlack, alice: str, support: str) -> None:
    url = slack._responder.response_url(ResponseTarget(channel=support, user=alice))
    slack.rate_limit(RESPONSE_URL, retry_after=2)

    limited = WebhookClient(url).send(text="too soon")
    sent = WebhookClient(url).send(text="now")

    assert (limited.status_code, limited.headers.get("Retry-After")) == (429, "2")
    assert sent.status_code == 200
    assert [e.text for e in slack.ephemerals(user=alice)] == ["now"]


def _post_status(client: WebClient, channel: str) -> int:
    try:
        return client.chat_postMessage(channel=channel, text="hi").status_code
    except SlackApiError as error:
        return error.response.status_code


def test_post_message_per_channel_limit_refuses_a_second_post_within_the_second(
    slack: FakeSlack, client: WebClient, alice: str, support: str
) -> None:
    other = slack.add_channel("other", members=[alice])
    slack.rate_limit_per_channel("chat.postMessage", calls_per_second=1)

    statuses = [_post_status(client, c) for c in (support, support, other)]

    assert statuses == [200, 429, 200]  # another channel has its own second
    refused = slack.calls("chat.postMessage")[1]
    assert refused.error == "ratelimited"
    assert [m.text for m in slack.messages(support)] == ["hi"]  # the refused post is not shown


def test_post_message_per_workspace_limit_counts_each_install_apart(
    slack: FakeSlack, alice: str
) -> None:
    channels = [slack.add_channel(f"c{i}", members=[alice]) for i in range(3)]
    first = WebClient(base_url=slack.api_url, token=slack.add_install("T1"))
    second = WebClient(base_url=slack.api_url, token=slack.add_install("T2"))
    slack.rate_limit_per_workspace("chat.postMessage", calls_per_minute=2)

    statuses = [_post_status(first, c) for c in channels] + [_post_status(second, channels[0])]

    assert statuses == [200, 200, 429, 200]
    retry_after = slack.calls("chat.postMessage")[2]
    assert retry_after.status == 429


def test_an_install_token_is_accepted_and_an_unknown_one_refused(slack: FakeSlack) -> None:
    token = slack.add_install("T0OTHER")

    assert WebClient(base_url=slack.api_url, token=token).auth_test()["ok"]
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(base_url=slack.api_url, token="xoxb-unknown").auth_test()


def test_a_disconnected_app_is_not_called_while_people_post(
    slack: FakeSlack, alice: str, support: str
) -> None:
    slack.connect("http://127.0.0.1:9/slack/events", verify=False)  # nothing listens there
    slack.disconnect()

    ts = slack.user_posts(alice, support, "setting the scene")

    assert slack.deliveries == []
    assert [m.ts for m in slack.messages(support)] == [ts]


def test_home_tab_publish_and_hash_conflict(
    slack: FakeSlack, client: WebClient, alice: str
) -> None:
    home = {"type": "home", "blocks": [_section("Hi")]}

    first = client.views_publish(user_id=alice, view=home)["view"]
    client.views_publish(user_id=alice, view=home, hash=first["hash"])

    assert slack.home(alice).blocks == home["blocks"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_publish(user_id=alice, view=home, hash=first["hash"])


def test_observers_see_every_change(slack: FakeSlack, client: WebClient, support: str) -> None:
    changes: list[Change] = []
    unsubscribe = slack.subscribe(changes.append)

    client.chat_postMessage(channel=support, text="hello")
    unsubscribe()
    client.chat_postMessage(channel=support, text="unseen")

    assert [(c.kind, c.record.text) for c in changes] == [("message_posted", "hello")]


# ------------------------------------------------------------------------------------ with bolt


def test_command_reaches_the_app_and_its_ack_shows_as_an_ephemeral(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    @app.command("/practice")
    def practice(ack: Callable[..., None], command: dict[str, Any]) -> None:
        ack(f"Practising {command['text']}")

    slack.connect(serve(app))
    delivery = slack.send_command(alice, support, "/practice", "acknowledge")

    assert delivery.status == 200 and delivery.acked_within_deadline
    assert delivery.outcome == "ephemeral"
    assert [e.text for e in slack.ephemerals(user=alice)] == ["Practising acknowledge"]
    assert delivery.payload["response_url"].startswith(slack.api_url.removesuffix("api/"))


def test_respond_through_the_response_url(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    @app.command("/practice")
    def practice(ack: Callable[..., None], respond: Callable[..., Any]) -> None:
        ack()
        respond("Visible to you")
        respond(text="Visible to all", response_type="in_channel")

    slack.connect(serve(app))
    delivery = slack.send_command(alice, support)
    slack.wait_until(lambda: len(slack.messages(support)) == 1)

    assert delivery.body == "" and delivery.outcome is None
    assert [e.text for e in slack.ephemerals(user=alice)] == ["Visible to you"]
    assert [m.text for m in slack.messages(support)] == ["Visible to all"]


def test_bad_signature_or_stale_timestamp_is_rejected_with_401(
    slack: FakeSlack, serve: Callable[[App], str]
) -> None:
    slack.connect(serve(bolt_app(slack)))
    body = urlencode({"command": "/practice", "text": ""}).encode()
    stale = slack.sign(body, timestamp=int(time.time()) - 600)
    forged = {**slack.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}

    for headers in (stale, forged):
        delivery = slack.post_to_app(
            body, content_type="application/x-www-form-urlencoded", headers=headers
        )
        assert delivery.status == 401


def test_slow_ack_makes_slack_retry_the_event(serve: Callable[[App], str]) -> None:
    with FakeSlack(signing_secret=SECRET, ack_deadline=0.3) as slack:
        alice = slack.add_user("alice")
        support = slack.add_channel("support", members=[alice])
        app = bolt_app(slack)
        retries_seen: list[tuple[str | None, str | None]] = []

        @app.middleware
        def slow_first_time(request: Any, next: Callable[[], Any]) -> Any:
            retry_num = request.headers.get("x-slack-retry-num", [None])[0]
            retries_seen.append((retry_num, request.headers.get("x-slack-retry-reason", [None])[0]))
            if retry_num is None:
                time.sleep(0.5)
            return next()

        app.event("message")(lambda: None)
        slack.connect(serve(app))
        retries_seen.clear()  # forget the url_verification
        slack.user_posts(alice, support, "hello")

        delivery = slack.deliveries[-1]
        assert not delivery.acked_within_deadline
        assert delivery.retries == [(1, "http_timeout")]
        assert delivery.status == 200
        assert retries_seen == [(None, None), ("1", "http_timeout")]


def test_redeliver_resends_the_same_event(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)
    event_ids: list[str] = []

    @app.event("message")
    def record(body: dict[str, Any]) -> None:
        event_ids.append(body["event_id"])

    slack.connect(serve(app))
    slack.user_posts(alice, support, "hello")
    first = slack.deliveries[-1]
    again = slack.redeliver(first)
    slack.wait_until(lambda: len(event_ids) == 2)  # bolt runs listeners after the ack

    assert again.retries == [(1, "http_timeout")]
    assert event_ids == [first.event_id, first.event_id]


def test_app_replies_in_thread_and_is_told_about_its_own_message(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    @app.message("angry customer")
    def coach(message: dict[str, Any], say: Callable[..., Any]) -> None:
        say(text="Start by acknowledging.", thread_ts=message["ts"])

    slack.connect(serve(app))
    root = slack.user_posts(alice, support, "I have an angry customer")
    slack.wait_until(lambda: len(slack.messages(support, thread_ts=root)) == 2)
    slack.wait_idle()

    assert [m.text for m in slack.messages(support, thread_ts=root)][1] == "Start by acknowledging."
    own_echo = slack.deliveries[-1].payload["event"]
    assert own_echo["bot_id"] == "BBOT" and own_echo["thread_ts"] == root
    assert len(slack.messages(support, thread_ts=root)) == 2  # bolt ignored its own message


def test_click_a_button_and_replace_the_original(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    @app.action("rate")
    def rate(ack: Callable[..., None], respond: Callable[..., Any], action: dict[str, Any]) -> None:
        ack()
        respond(text=f"Rated {action['value']}", replace_original=True)

    slack.connect(serve(app))
    button = {
        "type": "button",
        "action_id": "rate",
        "text": {"type": "plain_text", "text": "5"},
        "value": "5",
    }
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    client.chat_postMessage(
        channel=support, text="Rate it", blocks=[{"type": "actions", "elements": [button]}]
    )

    [message] = slack.messages(support)
    delivery = slack.click(alice, message, "rate")
    slack.wait_until(lambda: slack.messages(support)[0].text == "Rated 5")

    assert delivery.payload["actions"][0]["value"] == "5"
    assert delivery.payload["container"]["message_ts"] == message.ts


def test_modal_opens_from_a_command_and_submission_answers_apply(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)
    modal = {
        "type": "modal",
        "callback_id": "reflection",
        "title": {"type": "plain_text", "text": "Reflect"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "What went well?"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }

    @app.command("/practice")
    def open_modal(ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view("reflection")
    def save(ack: Callable[..., None], view: dict[str, Any]) -> None:
        text = view["state"]["values"]["note"]["text"]["value"]
        if len(text) < 5:
            ack(response_action="errors", errors={"note": "Tell us a bit more"})
        else:
            ack()

    slack.connect(serve(app))
    command = slack.send_command(alice, support)
    slack.wait_until(lambda: slack.modals(alice))
    [opened] = slack.modals(alice)

    rejected = slack.submit_view(alice, opened.id, {"text": "ok"})
    accepted = slack.submit_view(alice, opened.id, {"text": "I listened first"})

    assert rejected.outcome == "errors" and rejected.json()["errors"] == {
        "note": "Tell us a bit more"
    }
    assert accepted.outcome == "view_closed" and slack.modals(alice) == []
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id=command.payload["trigger_id"], view=modal)


def test_trigger_ids_expire(serve: Callable[[App], str]) -> None:
    with FakeSlack(signing_secret=SECRET, trigger_ttl=0.0) as slack:
        alice = slack.add_user("alice")
        support = slack.add_channel("support", members=[alice])
        app = bolt_app(slack)
        app.command("/practice")(lambda ack: ack())
        slack.connect(serve(app))
        trigger_id = slack.send_command(alice, support).payload["trigger_id"]
        client = WebClient(base_url=slack.api_url, token=slack.bot_token)

        with pytest.raises(SlackApiError, match="expired_trigger_id"):
            client.views_open(
                trigger_id=trigger_id,
                view={"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []},
            )


def test_home_opened_event_and_reactions_reach_the_app(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)
    seen: list[str] = []
    app.event("app_home_opened")(lambda event: seen.append(event["type"]))
    app.event("reaction_added")(lambda event: seen.append(event["reaction"]))

    slack.connect(serve(app))
    slack.open_home(alice)
    ts = slack.user_posts(alice, support, "thanks")
    slack.user_reacts(alice, support, ts, "tada")
    slack.wait_until(lambda: len(seen) == 2)

    assert sorted(seen) == ["app_home_opened", "tada"]


def test_events_follow_subscriptions_and_membership(serve: Callable[[App], str]) -> None:
    with FakeSlack(signing_secret=SECRET, event_types={"message.im"}) as slack:
        alice = slack.add_user("alice")
        support = slack.add_channel("support", members=[alice])
        slack.connect(serve(bolt_app(slack)))

        slack.user_posts(alice, support, "not subscribed to channel messages")
        in_dm = slack.user_posts(alice, slack.dm_channel(alice), "subscribed to DMs")

        [delivery] = [d for d in slack.deliveries if d.kind == "event"]
        assert delivery.payload["event"]["ts"] == in_dm


def test_connect_checks_the_request_url(slack: FakeSlack, serve: Callable[[App], str]) -> None:
    delivery = slack.connect(serve(bolt_app(slack)))

    assert delivery is not None and delivery.kind == "url_verification"
    assert json.loads(delivery.body)["challenge"] == delivery.payload["challenge"]


def test_reply_to_an_unknown_ts_is_orphaned_and_a_malformed_one_refused(
    slack: FakeSlack, client: WebClient, support: str
) -> None:
    orphan = client.chat_postMessage(channel=support, thread_ts="1.000001", text="lost")

    assert orphan["ok"] and slack.messages(support) == []
    with pytest.raises(SlackApiError, match="invalid_thread_ts"):
        client.chat_postMessage(channel=support, thread_ts="yesterday", text="x")
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel=support, ts="1.000001")


def test_edits_deletes_and_mentions_reach_the_app(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)
    seen: list[str] = []
    app.event("message")(lambda event: seen.append(event.get("subtype", "new")))
    app.event("app_mention")(lambda event: seen.append("mention"))

    slack.connect(serve(app))
    root = slack.user_posts(alice, support, "<@UBOT> help me")
    slack.user_posts(alice, support, "a reply", thread_ts=root)
    slack.user_edits(alice, support, root, "<@UBOT> help me, please")
    slack.user_deletes(alice, support, root)
    slack.wait_until(lambda: len(seen) == 5)

    assert sorted(seen) == ["mention", "message_changed", "message_deleted", "new", "new"]
    [tombstone] = slack.messages(support)  # a root with replies stays as a stub
    assert tombstone.subtype == "tombstone"


def test_unacknowledged_events_are_retried_until_slack_gives_up(slack: FakeSlack) -> None:
    slack.connect("http://127.0.0.1:9/slack/events", verify=False)  # nothing listens there

    delivery = slack.send_event({"type": "app_home_opened", "user": "U1", "tab": "home"})

    assert delivery.status is None
    assert delivery.retries == [(n, "connection_failed") for n in (1, 2, 3)]


def test_an_unhandled_event_answers_404_and_is_retried_unless_told_not_to(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)  # no listener: bolt answers 404
    slack.connect(serve(app))
    slack.user_posts(alice, support, "nobody listens")
    assert slack.deliveries[-1].retries == [(n, "http_error") for n in (1, 2, 3)]

    @app.middleware
    def refuse(next: Callable[[], Any]) -> BoltResponse:
        return BoltResponse(status=500, body="", headers={"x-slack-no-retry": "1"})

    slack.user_posts(alice, support, "refused")
    assert slack.deliveries[-1].status == 500 and slack.deliveries[-1].retries == []


def test_command_answers_in_channel_or_times_out(serve: Callable[[App], str]) -> None:
    with FakeSlack(signing_secret=SECRET, ack_deadline=0.3) as slack:
        alice = slack.add_user("alice")
        support = slack.add_channel("support", members=[alice])
        app = bolt_app(slack)

        @app.command("/practice")
        def practice(ack: Callable[..., None], command: dict[str, Any]) -> None:
            if command["text"] == "slow":
                time.sleep(0.5)
            ack(response_type="in_channel", text="Practice round started")

        slack.connect(serve(app))
        fast = slack.send_command(alice, support, text="fast")
        slow = slack.send_command(alice, support, text="slow")

        assert fast.outcome == "in_channel"
        assert [m.text for m in slack.messages(support)] == ["Practice round started"]
        assert not slow.acked_within_deadline and slow.outcome == "error:operation_timeout"
        [error] = slack.ephemerals(user=alice)
        assert error.text == '/practice failed with the error "operation_timeout"'


def test_click_in_an_ephemeral_then_delete_it(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    @app.action("dismiss")
    def dismiss(ack: Callable[..., None], respond: Callable[..., Any]) -> None:
        ack()
        respond(delete_original=True)

    slack.connect(serve(app))
    button = {
        "type": "button",
        "action_id": "dismiss",
        "text": {"type": "plain_text", "text": "Got it"},
    }
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    client.chat_postEphemeral(
        channel=support,
        user=alice,
        text="Tip",
        blocks=[_section("Tip"), {"type": "actions", "elements": [button]}],
    )

    [tip] = slack.ephemerals(user=alice)
    delivery = slack.click(alice, tip, "dismiss")
    slack.wait_until(lambda: not slack.ephemerals(user=alice))

    assert delivery.payload["container"]["is_ephemeral"] is True
    assert "message" not in delivery.payload


def test_select_in_the_home_tab(slack: FakeSlack, serve: Callable[[App], str], alice: str) -> None:
    app = bolt_app(slack)
    picked: list[str] = []

    @app.action("level")
    def level(ack: Callable[..., None], action: dict[str, Any]) -> None:
        ack()
        picked.append(action["selected_option"]["value"])

    slack.connect(serve(app))
    options = [
        {"text": {"type": "plain_text", "text": name}, "value": name} for name in ("easy", "hard")
    ]
    select = {"type": "static_select", "action_id": "level", "options": options}
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    client.views_publish(
        user_id=alice,
        view={
            "type": "home",
            "blocks": [{"type": "section", "text": _section("Level")["text"], "accessory": select}],
        },
    )

    delivery = slack.click(alice, slack.home(alice), "level", "hard")
    slack.wait_until(lambda: bool(picked))

    assert picked == ["hard"] and delivery.payload["container"]["type"] == "view"
    with pytest.raises(LookupError):
        slack.click(alice, slack.home(alice), "level", "impossible")


def test_message_shortcut_opens_a_modal_that_submissions_update_push_and_clear(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)

    def modal(title: str) -> dict[str, Any]:
        field = {
            "type": "input",
            "block_id": "choice",
            "label": {"type": "plain_text", "text": "Next"},
            "element": {"type": "plain_text_input", "action_id": "next"},
        }
        return {
            "type": "modal",
            "callback_id": "steps",
            "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Go"},
            "blocks": [field],
        }

    @app.shortcut("review")
    def review(ack: Callable[..., None], shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=modal("Review"))

    @app.view("steps")
    def steps(ack: Callable[..., None], view: dict[str, Any]) -> None:
        action = view["state"]["values"]["choice"]["next"]["value"]
        ack(response_action=action, view=modal(action.title()) if action != "clear" else None)

    slack.connect(serve(app))
    ts = slack.user_posts(alice, support, "Sorry for the delay!")
    slack.send_shortcut(alice, support, ts, "review")
    slack.wait_until(lambda: slack.modals(alice))

    outcomes = [
        slack.submit_view(alice, slack.modals(alice)[-1].id, {"next": step}).outcome
        for step in ("update", "push", "clear")
    ]

    assert outcomes == ["view_updated", "view_pushed", "views_cleared"]
    assert slack.modals(alice) == []
    assert [v.definition["title"]["text"] for v in slack.views] == ["Update", "Push"]


def test_view_updates_check_the_hash(
    slack: FakeSlack, serve: Callable[[App], str], alice: str, support: str
) -> None:
    app = bolt_app(slack)
    app.command("/practice")(lambda ack: ack())
    slack.connect(serve(app))
    trigger_id = slack.send_command(alice, support).payload["trigger_id"]
    client = WebClient(base_url=slack.api_url, token=slack.bot_token)
    view = {
        "type": "modal",
        "external_id": "practice-1",
        "title": {"type": "plain_text", "text": "Practice"},
        "blocks": [_section("Round 1")],
    }

    opened = client.views_open(trigger_id=trigger_id, view=view)["view"]
    client.views_update(external_id="practice-1", hash=opened["hash"], view=view)

    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_update(view_id=opened["id"], view={**view, "title": _header("x" * 25)["text"]})


def test_fakes_depend_on_nothing_but_the_standard_library() -> None:
    """bot.fakes is reused by the local sandbox and the benchmarks, outside the bot."""
    package = Path(bot.fakes.__file__).parent
    outside = {
        f"{source.relative_to(package)}: {module}"
        for source in package.rglob("*.py")
        for module in _imported_modules(source)
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith("bot.fakes")
    }

    assert outside == set()


def _imported_modules(source: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
