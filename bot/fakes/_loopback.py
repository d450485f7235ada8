"""The HTTP plumbing the fakes share: a threaded server on loopback that hands each request to a
plain function and writes back what it returns.

Keeping the fakes' logic as `HttpRequest -> HttpResponse` functions means none of them has to know
about `BaseHTTPRequestHandler`, and a handler that sleeps (to simulate a slow upstream) only holds
its own connection's thread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between the body's bytes: an upstream that answers too slowly

    @classmethod
    def json(cls, obj: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Self:
        return cls(
            status=status,
            body=json.dumps(obj).encode(),
            content_type="application/json; charset=utf-8",
            headers=headers or {},
        )

    @classmethod
    def text(
        cls, text: str, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Self:
        return cls(status=status, body=text.encode(), headers=headers or {})


Handler = Callable[[HttpRequest], HttpResponse]


class LoopbackServer:
    """Serves `handler` on a background thread; one thread per connection."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Set by stop() so handlers that simulate a slow upstream wake up instead of holding
        # the process open.
        self.stopping = threading.Event()

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("server already started")
        self.stopping.clear()
        self._server = ThreadingHTTPServer(
            self._address, _request_handler_for(self._handler, self.stopping)
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # A short poll keeps stop() (and so every test teardown) quick.
            kwargs={"poll_interval": 0.05},
            name=f"loopback:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def sleep(self, seconds: float) -> None:
        """Wait like a slow upstream would, but return early when the server stops."""
        self.stopping.wait(seconds)


def _request_handler_for(
    handler: Handler, stopping: threading.Event
) -> type[BaseHTTPRequestHandler]:
    class _RequestHandler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections alive, as the real services do for the clients' pools.
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = HttpRequest(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            try:
                response = handler(request)
            except Exception:
                # A bug in a fake must surface as a loud 500, not as a dropped connection.
                log.exception("fake failed on %s %s", request.method, request.path)
                response = HttpResponse.text("fake server error", status=500)
            try:
                self._write(response)
            except ConnectionError:
                # The client gave up first (its timeout fired): exactly what a hang simulates.
                self.close_connection = True

        def _write(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not response.drip:
                self.wfile.write(response.body)
                return
            for index in range(len(response.body)):
                self.wfile.write(response.body[index : index + 1])
                if stopping.wait(response.drip):
                    return

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return _RequestHandler
