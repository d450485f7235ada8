"""The HTTP side: Slack's request URL plus health, readiness and metrics, served by waitress."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

import waitress
from prometheus_client import make_wsgi_app
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context
from sqlalchemy.exc import SQLAlchemyError

from bot.app import build_app
from bot.jobs.tasks import start_workers
from bot.logs import log_context, withhold_request_bodies
from bot.metrics import ACK_SECONDS, REGISTRY, SLACK_REQUESTS
from bot.services import Services
from bot.store.migrations import schema_is_current

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# Slack's requests are a few kilobytes (a view submission with every field filled, tens).
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Probes:
    """What /healthz and /readyz check. `stopped` names the first part of the process that
    stopped running (the job workers, the scheduler), or None."""

    services: Services
    stopped: Callable[[], str | None]

    def health(self) -> tuple[int, dict]:
        stopped = self.stopped()
        if stopped is None:
            return 200, {"status": "ok"}
        return 503, {"status": "unhealthy", "reason": f"{stopped} not running"}

    def readiness(self) -> tuple[int, dict]:
        db = self.services.db
        try:
            db.ping()
            current = schema_is_current(db.engine)
        except SQLAlchemyError as error:
            logger.warning("readiness check failed: %s", type(error).__name__)
            return 503, {"status": "unready", "reason": "database unreachable"}
        if not current:
            return 503, {"status": "unready", "reason": "schema is not at head: run migrate"}
        return 200, {"status": "ready"}


def build_wsgi_app(probes: Probes, bolt_app: App | None) -> WsgiApp:
    """Route ops endpoints here; everything else goes to bolt (/slack/events, OAuth pages).
    Without a bolt app (Socket Mode) only the ops endpoints are served. Bodies over
    MAX_BODY_BYTES are refused unread, and Slack requests bolt could not parse get 400."""
    if bolt_app is not None:
        withhold_request_bodies(bolt_app.logger)
        slack = _timed(_well_formed(FormSafeRequestHandler(bolt_app)))
    else:
        slack = _not_found
    metrics = make_wsgi_app(REGISTRY)
    routes: dict[str, WsgiApp] = {
        "/healthz": _json_endpoint(probes.health),
        "/readyz": _json_endpoint(probes.readiness),
        "/metrics": metrics,
    }

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        return routes.get(environ.get("PATH_INFO", ""), slack)(environ, start_response)

    return _size_limited(application)


FORM = "application/x-www-form-urlencoded"


class FormSafeRequestHandler(SlackRequestHandler):
    """bolt's parser takes any form body that merely contains the word "payload" for an
    interaction, finds no `payload` field and drops the request (`/practice check … payload …`
    would answer dispatch_failed); such a body is read as the form it is."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(
            body=request.get_body(), query=request.query_string, headers=request.get_headers()
        )
        if not bolt_request.body and bolt_request.content_type == FORM:
            form = dict(parse_qsl(bolt_request.raw_body, keep_blank_values=True))
            if "payload" not in form:
                bolt_request.body = form
                bolt_request.context = build_context(BoltContext(), form)
        return self.app.dispatch(bolt_request)


def create_server(application: WsgiApp, host: str, port: int, threads: int):
    """A waitress server bound to host:port (port 0 picks a free one: see `effective_port`).
    It answers 413 to a body over MAX_BODY_BYTES as soon as it reads the headers."""
    return waitress.create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="asap-coach",
        max_request_body_size=MAX_BODY_BYTES,
    )


def stop_server(server) -> None:
    """Stop a server whose `run()` loop is in another thread. The close runs inside that loop
    (the trigger wakes it), so the loop ends at once instead of failing on a closed socket."""
    server.trigger.pull_trigger(server.close)
    server.task_dispatcher.shutdown()


@contextmanager
def serving(services: Services, threads: int = 4) -> Iterator[str]:
    """The bot (Slack's request URL, the ops endpoints and the job workers) served by waitress
    on a free loopback port, in a thread, until the block ends; yields its base URL (for the
    fake Slack, tests and the sandbox). No scheduler: the caller ticks what it needs."""
    start_workers(services)
    probes = Probes(services, stopped=lambda: None if services.jobs.workers_running else "jobs")
    server = create_server(build_wsgi_app(probes, build_app(services)), "127.0.0.1", 0, threads)
    thread = threading.Thread(target=server.run, daemon=True, name="asap-coach-web")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        try:
            stop_server(server)
        except OSError as error:  # its loop already ended and closed the trigger
            logger.debug("bot server already closed: %s", error)
        thread.join(timeout=5)
        services.jobs.close()


def serve(application: WsgiApp, host: str, port: int, threads: int) -> None:
    server = create_server(application, host, port, threads)
    try:
        server.run()
    finally:
        server.close()
        server.task_dispatcher.shutdown()


def _timed(handler: WsgiApp) -> WsgiApp:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        status_seen: list[str] = []

        def recording_start_response(status: str, headers: list, *exc_info):
            status_seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, *exc_info)

        with log_context():  # the ids bolt's middleware binds last as long as the request
            body = handler(environ, recording_start_response)
        ACK_SECONDS.observe(time.perf_counter() - started)
        SLACK_REQUESTS.labels(status=status_seen[0] if status_seen else "none").inc()
        return body

    return application


def _size_limited(handler: WsgiApp) -> WsgiApp:
    """Refuses a body over MAX_BODY_BYTES from its Content-Length, before reading it (whatever
    server runs the app: waitress also stops it on its own)."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error("400 Bad Request", "bad Content-Length")(environ, start_response)
        if length > MAX_BODY_BYTES:
            logger.info("refused a %d-byte request body", length)
            return _error("413 Content Too Large", "body too large")(environ, start_response)
        return handler(environ, start_response)

    return application


def _well_formed(handler: WsgiApp) -> WsgiApp:
    """Answers 400 to a POST bolt could not parse, where bolt would fail with a 500 that Slack
    retries. The body, read here, is handed on unchanged."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return handler(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        problem = malformed_body(body, content_type)
        if problem is not None:
            logger.info("refused a malformed Slack request: %s", problem)
            return _error("400 Bad Request", f"malformed body: {problem}")(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        return handler(environ, start_response)

    return application


def malformed_body(body: bytes, content_type: str) -> str | None:
    """What keeps `body` from being a Slack request as bolt reads one (a JSON object, or a form
    with a JSON `payload`, a slash command or an SSL check), or None if nothing does."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    if not text:
        return "empty"
    if content_type == "application/json" or text.startswith("{"):  # bolt's own test
        return None if _is_json_object(text) else "not a JSON object"
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        return None if _is_json_object(form["payload"]) else "payload is not a JSON object"
    if "command" in form or "ssl_check" in form:
        return None
    return "a form without payload"


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _error(status: str, error: str) -> WsgiApp:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps({"error": error}).encode()]

    return application


def _json_endpoint(check: Callable[[], tuple[int, dict]]) -> WsgiApp:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        status, payload = check()
        body = json.dumps(payload).encode()
        reason = "OK" if status == 200 else "Service Unavailable"
        start_response(f"{status} {reason}", [("Content-Type", "application/json")])
        return [body]

    return application


def _not_found(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not Found"]
