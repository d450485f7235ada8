"""The sandbox's local web server: the page, its state as JSON, server-sent events, and one POST
endpoint per thing a person does in Slack, each handed to the fake Slack's driver.

It binds 127.0.0.1 only. Errors a person can cause (a stale button, a modal already closed) are
answered with a message for the page, never a crash.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.fakes.slack import Ephemeral, Message, SlackError, View
from bot.prompt_files import read_toml
from bot.sandbox.runtime import COACHING_EMOJI, PEOPLE, Sandbox

logger = logging.getLogger(__name__)

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Paths a browser asks for by itself, and the static file that answers each.
WELL_KNOWN = {"/": "index.html", "/favicon.ico": "favicon.svg"}
SHORTCUTS = [{"callback_id": "critique_message", "name": "Critique with ASAP"}]
COMMANDS = ["/practice"]
MAX_BODY = 1_000_000
KEEPALIVE_SECONDS = 15.0


class BadRequest(Exception):
    """Something the page asked that Slack would refuse; `str()` is shown to the person."""


class SandboxPage:
    """What the page sees and does, for one person at a time (the `as` of each request)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._dismissed: set[str] = set()  # modals the person closed (Slack: the X or Esc)

    # ---------------------------------------------------------------- reading

    def state(self, as_key: str) -> dict[str, Any]:
        sandbox = self.sandbox
        fake, workspace = sandbox.fake, sandbox.workspace
        me = self._user(as_key)
        people = {p.key: p for p in PEOPLE}
        users = {
            uid: {"name": people[key].real_name, "role": people[key].role}
            for key, uid in workspace.users.items()
        }
        users[fake.bot_user_id] = {"name": "ASAP Coach", "role": "app"}
        channels = [
            {
                "id": workspace.support,
                "name": "support",
                "kind": "channel",
                "about": "Customers ask, agents answer. Watched by the bot.",
            },
        ]
        if people[as_key].role != "customer":
            channels.append(
                {
                    "id": workspace.team,
                    "name": "team",
                    "kind": "channel",
                    "about": "The team's channel: the daily reminder is posted here.",
                }
            )
        channels.append(
            {
                "id": workspace.dms[me],
                "name": "ASAP Coach",
                "kind": "dm",
                "about": "Your direct messages with the bot.",
            }
        )
        conversations = {}
        for channel in channels:
            conversations[channel["id"]] = self._conversation(channel["id"], me)
        modals = [v for v in fake.modals(me) if v.id not in self._dismissed]
        home = fake.home(me)
        return {
            "me": me,
            "as": as_key,
            "personas": [
                {"key": p.key, "id": workspace.users[p.key], "name": p.real_name, "role": p.role}
                for p in PEOPLE
                if p.switchable
            ],
            "users": users,
            "bot": fake.bot_user_id,
            "channels": channels,
            "conversations": conversations,
            "modal": _view_json(modals[-1]) if modals else None,
            "home": _view_json(home) if home else None,
            "day": sandbox.clock.day.isoformat(),
            "notice": sandbox.notice,
            "emoji": [COACHING_EMOJI, "+1", "heart", "eyes", "white_check_mark", "tada", "pray"],
            "shortcuts": SHORTCUTS,
            "commands": COMMANDS,
        }

    def _conversation(self, channel: str, me: str) -> dict[str, Any]:
        fake = self.sandbox.fake
        shown = fake.ephemerals()[self.sandbox.hidden_ephemerals :]
        mine = [e for e in shown if e.user == me and e.channel == channel]
        messages = []
        for message in fake.messages(channel):
            replies = fake.messages(channel, message.ts)[1:]
            item = _message_json(message)
            item["replies"] = [_message_json(reply) for reply in replies]
            messages.append(item)
        return {"messages": messages, "ephemerals": [_ephemeral_json(e) for e in mine]}

    def _user(self, as_key: str) -> str:
        users = self.sandbox.workspace.users
        if as_key not in users:
            raise BadRequest(f"nobody called {as_key!r} in this sandbox")
        return users[as_key]

    # ---------------------------------------------------------------- acting

    def act(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """Do `action`; it waits for a reset (or a reminder) under way instead of failing."""
        with self.sandbox._lock:
            return self._act(action, body)

    def _act(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        fake = self.sandbox.fake
        as_key = str(body.get("as", ""))
        if action == "reset":
            self._dismissed.clear()
            self.sandbox.reset()
            return {"ok": True}
        if action in ("remind", "tomorrow"):
            sandbox = self.sandbox
            tomorrow = action == "tomorrow"
            outcomes = sandbox.advance_to_tomorrow() if tomorrow else sandbox.send_todays_reminder()
            said = sandbox.todays_reminder(outcomes)
            if tomorrow:
                said = read_toml("sandbox", "page.toml")["tomorrow"] + said
            return {"ok": True, "outcomes": outcomes, "said": said}
        me = self._user(as_key)
        channel = str(body.get("channel", ""))
        if action == "post":
            text = str(body.get("text", ""))
            if not text.strip():
                raise BadRequest("Slack does not send an empty message.")
            thread_ts = body.get("thread_ts") or None
            return {"ok": True, "ts": fake.user_posts(me, channel, text, thread_ts=thread_ts)}
        if action == "command":
            command, _, text = str(body.get("text", "")).strip().partition(" ")
            if command not in COMMANDS:
                raise BadRequest(
                    f"{command} is not a valid command. In Slack, all messages that start with "
                    'the "/" character are interpreted as commands.'
                )
            delivery = fake.send_command(me, channel, command, text.strip())
            return {"ok": True, "outcome": str(delivery.outcome)}
        if action == "react":
            name, ts = str(body.get("name", "")), str(body.get("ts", ""))
            message = self._message(channel, ts, body.get("thread_ts"))
            reaction = message.reaction(name)
            if reaction is not None and me in reaction.users:
                fake.user_unreacts(me, channel, ts, name)
            else:
                fake.user_reacts(me, channel, ts, name)
            return {"ok": True}
        if action == "shortcut":
            fake.send_shortcut(me, channel, str(body.get("ts")), str(body.get("callback_id")))
            return {"ok": True}
        if action == "click":
            target = self._target(me, body.get("target") or {})
            fake.click(me, target, str(body.get("action_id")), body.get("value"))
            return {"ok": True}
        if action == "submit":
            delivery = fake.submit_view(me, str(body.get("view_id")), body.get("values") or {})
            return {"ok": True, "outcome": str(delivery.outcome)}
        if action == "close":
            self._dismissed.add(str(body.get("view_id")))
            self.sandbox._changed(None)
            return {"ok": True}
        if action == "home":
            fake.open_home(me)
            return {"ok": True}
        raise BadRequest(f"unknown action {action!r}")

    def _target(self, me: str, target: dict[str, Any]) -> Message | Ephemeral | View:
        fake, kind = self.sandbox.fake, target.get("kind")
        if kind == "view":
            for view in fake.views:
                if view.id == target.get("id"):
                    return view
            raise BadRequest("That view is no longer open.")
        channel, ts = str(target.get("channel")), str(target.get("ts"))
        if kind == "ephemeral":
            for ephemeral in fake.ephemerals(user=me, channel=channel):
                if ephemeral.ts == ts:
                    return ephemeral
            raise BadRequest("That message is no longer shown.")
        return self._message(channel, ts, target.get("thread_ts"))

    def _message(self, channel: str, ts: str, thread_ts: object) -> Message:
        fake = self.sandbox.fake
        found = fake.messages(channel, str(thread_ts)) if thread_ts else fake.messages(channel)
        for message in found:
            if message.ts == ts:
                return message
        raise BadRequest("That message was deleted.")


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "ts": message.ts,
        "user": message.user,
        "bot": message.bot_id is not None,
        "text": message.text,
        "blocks": message.blocks or [],
        "thread_ts": message.thread_ts,
        "edited": message.edited_ts is not None,
        "reactions": [{"name": r.name, "users": list(r.users)} for r in message.reactions],
    }


def _ephemeral_json(ephemeral: Ephemeral) -> dict[str, Any]:
    return {
        "ts": ephemeral.ts,
        "text": ephemeral.text,
        "blocks": ephemeral.blocks or [],
        "thread_ts": ephemeral.thread_ts,
    }


def _view_json(view: View) -> dict[str, Any]:
    return {"id": view.id, "type": view.type, "definition": view.definition}


class _HTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-request (a closed tab, a reload) is no error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("page: %s went away", client_address)
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """The page's HTTP server on 127.0.0.1 (port 0 picks a free one)."""

    def __init__(self, sandbox: Sandbox, port: int = 0) -> None:
        self.sandbox = sandbox
        self.page = SandboxPage(sandbox)
        self._streams: list[queue.SimpleQueue[str]] = []
        self._streams_lock = threading.Lock()
        self._stopping = threading.Event()
        sandbox.subscribe(self._broadcast)
        handler = _handler_class(self)
        self.httpd = _HTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        self._broadcast(None)
        self.httpd.shutdown()
        self.httpd.server_close()

    def _broadcast(self, change: object) -> None:
        kind = getattr(change, "kind", "all")
        with self._streams_lock:
            for stream in self._streams:
                stream.put(kind)

    def open_stream(self) -> queue.SimpleQueue[str]:
        stream: queue.SimpleQueue[str] = queue.SimpleQueue()
        with self._streams_lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: queue.SimpleQueue[str]) -> None:
        with self._streams_lock:
            self._streams.remove(stream)


def _handler_class(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    static = files("bot.sandbox").joinpath("static")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("page: " + format, *args)

        def _refused(self) -> bool:
            """Answer 403 to what only another site would send: a foreign Host (DNS rebinding),
            or a POST from another origin or not as JSON (a cross-site form or `fetch`)."""
            port = server.httpd.server_address[1]
            own = {f"127.0.0.1:{port}", f"localhost:{port}"}
            host = self.headers.get("Host", "")
            problem = None
            if host not in own:
                problem = "unknown Host"
            elif self.command == "POST":
                origin = self.headers.get("Origin")
                content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
                if origin is not None and origin != f"http://{host}":
                    problem = "foreign Origin"
                elif content_type.lower() != "application/json":
                    problem = "not JSON"
            if problem is None:
                return False
            self.close_connection = True
            self._send(HTTPStatus.FORBIDDEN, f"forbidden: {problem}".encode(), "text/plain")
            return True

        def do_GET(self) -> None:
            if self._refused():
                return
            url = urlparse(self.path)
            if url.path == "/api/state":
                as_key = parse_qs(url.query).get("as", ["ana"])[0]
                try:
                    self._json(HTTPStatus.OK, server.page.state(as_key))
                except BadRequest as error:
                    self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(error)})
                except Exception:  # e.g. read during a reset: the page asks again
                    logger.exception("sandbox state failed")
                    self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"ok": False, "error": "busy"})
                return
            if url.path == "/api/events":
                self._events()
                return
            name = WELL_KNOWN.get(url.path) or url.path.removeprefix("/static/")
            suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
            resource = static.joinpath(name)
            if "/" in name or suffix not in STATIC_TYPES or not resource.is_file():
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                return
            self._send(HTTPStatus.OK, resource.read_bytes(), STATIC_TYPES[suffix])

        def do_POST(self) -> None:
            if self._refused():
                return
            url = urlparse(self.path)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._send(HTTPStatus.BAD_REQUEST, b"bad Content-Length", "text/plain")
                return
            if not url.path.startswith("/api/") or length > MAX_BODY:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                return
            data = self.rfile.read(length)  # a client gone now: see _HTTPServer.handle_error
            try:
                body = json.loads(data or b"{}")
                if not isinstance(body, dict):
                    raise BadRequest("send a JSON object")
                answer = server.page.act(url.path.removeprefix("/api/"), body)
            except (BadRequest, LookupError, SlackError, ValueError, TimeoutError) as error:
                self._json(HTTPStatus.OK, {"ok": False, "error": str(error)})
                return
            except Exception:
                logger.exception("sandbox action %s failed", url.path)
                self._json(HTTPStatus.OK, {"ok": False, "error": "Something went wrong (logged)."})
                return
            self._json(HTTPStatus.OK, answer)

        def _events(self) -> None:
            stream = server.open_stream()
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.close_connection = True
                self.wfile.write(b"retry: 500\n\ndata: all\n\n")
                self.wfile.flush()
                while not server._stopping.is_set():
                    try:
                        kind = stream.get(timeout=KEEPALIVE_SECONDS)
                    except queue.Empty:
                        self.wfile.write(b": keep-alive\n\n")
                    else:
                        self.wfile.write(f"data: {kind}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                server.close_stream(stream)

        def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
