"""The one way the fake refuses a request."""

from __future__ import annotations

from collections.abc import Sequence


class SlackError(Exception):
    """A Web API failure, answered as `{"ok": false, "error": code}` like Slack's.

    `messages` become `response_metadata.messages`, where Slack explains `invalid_blocks` and
    `invalid_arguments` (e.g. "[ERROR] must be less than 3001 characters [json-pointer:/…]").
    """

    def __init__(self, code: str, messages: Sequence[str] = ()) -> None:
        super().__init__(code, *messages)
        self.code = code
        self.messages = list(messages)

    def to_api(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": False, "error": self.code}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body
