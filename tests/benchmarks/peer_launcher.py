"""Serves seratch/ChatGPT-in-Slack over HTTP for the side-by-side benchmark. Our code, not theirs:
it imports the peer's `app` package from a checkout given on the command line and copies nothing.

Run with the peer's own virtualenv (its requirements plus `waitress` and `bpe-openai`):

    /work/peer/venv/bin/python tests/benchmarks/peer_launcher.py --peer /work/peer/ChatGPT-in-Slack

Configured like the peer, by environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, OPENAI_API_KEY,
OPENAI_API_BASE (its name for the OpenAI base URL), plus SLACK_API_URL (the fake Slack) and PORT.

The peer's `main.py` runs only in Socket Mode and `main_prod.py` only on AWS Lambda, so this builds
the same bolt `App` their `main.py` builds (`before_authorize`, `process_before_response=True`,
their listeners, a 429 retry handler, the locale and OpenAI-settings middleware) and serves it
with bolt's WSGI adapter on waitress, the server asap-coach uses, with the same thread count.

tiktoken downloads its BPE files on first use, which this machine cannot do: its two lookups are
answered by `bpe-openai`, which ships the same cl100k/o200k encodings (same token ids).
"""

from __future__ import annotations

import argparse
import os
import sys


def _offline_tiktoken() -> None:
    """Loaded on first use, as tiktoken loads its own files."""
    import tiktoken

    def get_encoding(name: str):
        import bpe_openai

        return bpe_openai.get_encoding(name)

    def encoding_for_model(model: str):
        import bpe_openai

        try:
            return bpe_openai.encoding_for_model(model)
        except Exception as error:  # the peer falls back to cl100k_base on KeyError
            raise KeyError(model) from error

    tiktoken.get_encoding = get_encoding
    tiktoken.encoding_for_model = encoding_for_model


def build_peer_app():
    from app import env
    from app.bolt_listeners import before_authorize, register_listeners
    from slack_bolt import App
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    token = os.environ["SLACK_BOT_TOKEN"]
    client = WebClient(token=token, base_url=os.environ["SLACK_API_URL"])
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        before_authorize=before_authorize,
        process_before_response=True,
    )
    register_listeners(app)

    if env.USE_SLACK_LANGUAGE:

        @app.middleware
        def locale_of_the_user(context, client, next_):
            user = client.users_info(user=context.actor_user_id or context.user_id)
            context["locale"] = user.get("user", {}).get("locale")
            next_()

    @app.middleware
    def openai_settings(context, next_):
        context["OPENAI_API_KEY"] = os.environ["OPENAI_API_KEY"]
        for name in (
            "OPENAI_MODEL",
            "OPENAI_IMAGE_GENERATION_MODEL",
            "OPENAI_TEMPERATURE",
            "OPENAI_API_TYPE",
            "OPENAI_API_BASE",
            "OPENAI_API_VERSION",
            "OPENAI_DEPLOYMENT_ID",
            "OPENAI_ORG_ID",
            "OPENAI_FUNCTION_CALL_MODULE_NAME",
        ):
            context[name] = getattr(env, name)
        next_()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True, help="checkout of seratch/ChatGPT-in-Slack")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (ours: 8)")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.peer))
    _offline_tiktoken()

    import waitress
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(build_peer_app())
    waitress.serve(
        handler,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        threads=args.threads,
        ident="peer",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
