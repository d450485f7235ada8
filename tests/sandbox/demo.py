"""Steps through the sandbox's demo conversations that several tests take."""

from __future__ import annotations

from bot.sandbox import Sandbox
from bot.sandbox.runtime import COACHING_EMOJI
from bot.sandbox.server import SandboxPage

WAIT = 10.0


def critique_the_calm_down_reply(sandbox: Sandbox, page: SandboxPage) -> None:
    """Lee reacts to Ana's poor demo reply; Ana gets its critique in her DM."""
    support, ana = sandbox.workspace.support, sandbox.workspace.users["ana"]
    [root] = [
        m
        for m in page.state("lee")["conversations"][support]["messages"]
        if "birthday present" in m["text"]
    ]
    [reply] = [r for r in root["replies"] if "Calm down" in r["text"]]
    page.act(
        "react",
        {
            "as": "lee",
            "channel": support,
            "ts": reply["ts"],
            "thread_ts": root["ts"],
            "name": COACHING_EMOJI,
        },
    )
    dm = sandbox.workspace.dms[ana]
    sandbox.fake.wait_until(lambda: page.state("ana")["conversations"][dm]["messages"], WAIT)
