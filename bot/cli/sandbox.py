"""`asap-coach sandbox`: the bot and a fake Slack in a local page, no Slack workspace needed."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import webbrowser
from pathlib import Path

from bot.logs import configure_logging

logger = logging.getLogger(__name__)


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "sandbox",
        help="Try the bot in a local Slack-like page (no Slack workspace needed).",
        description="Start the bot on its embedded defaults together with a fake Slack, and "
        "serve a local page on 127.0.0.1 to use it like Slack. The bot's database and the "
        "sandbox's state live in the data folder.",
    )
    parser.add_argument(
        "--data", type=Path, default=Path("asap-sandbox"), help="data folder (./asap-sandbox)"
    )
    parser.add_argument("--port", type=int, default=8765, help="port of the page (0: any)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.sandbox.runtime import Sandbox
    from bot.sandbox.server import SandboxServer

    configure_logging("WARNING")
    sandbox = Sandbox(args.data)
    print(f"asap-coach sandbox: starting (data in {args.data.resolve()}) …", flush=True)
    sandbox.start()
    try:
        server = SandboxServer(sandbox, args.port)
    except OSError as error:
        sandbox.stop()
        print(
            f"asap-coach: cannot listen on 127.0.0.1:{args.port} ({error.strerror}); try --port 0.",
            file=sys.stderr,
        )
        return 2
    print(f"asap-coach sandbox: open {server.url}  (Ctrl+C stops it)", flush=True)
    if not args.no_browser:
        open_browser(server.url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def open_browser(url: str) -> bool:
    """Open `url` in a browser; without one (`webbrowser.open` then returns False, or raises)
    say so: the printed address still works."""
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error as error:
        logger.debug("webbrowser: %s", error)
        opened = False
    if not opened:
        print(
            f"asap-coach sandbox: no browser could be opened here; open {url} in one yourself.",
            file=sys.stderr,
            flush=True,
        )
    return opened
