"""The offline persona: the customer speaks from the scenario's lines and the shared ones.

Deterministic for a given session seed, so a replayed script gives the same conversation, and
varied: no line is said twice in a session while its pool still has unused lines.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from string import Formatter

from bot.coaching.practice.persona import Cue
from bot.coaching.practice.scenarios import PersonaLines, load_persona_lines
from bot.store.models import SessionStatus

_CLOSING_OUTCOMES = {SessionStatus.satisfied: "satisfied", SessionStatus.gave_up: "gave_up"}


def _literal_parts(template: str) -> list[str]:
    return [literal.strip() for literal, *_ in Formatter().parse(template) if literal.strip()]


def already_said(template: str, earlier_messages: Sequence[str]) -> bool:
    """Whether a line (its fixed words, for a template) is in an earlier customer message."""
    parts = _literal_parts(template)
    return any(all(part in message for part in parts) for message in earlier_messages)


def pick_line(
    pools: Sequence[Sequence[str]], earlier_messages: Sequence[str], rng: random.Random
) -> str:
    """A line not said yet, from the first pool that has one (the scenario's own lines come
    before the shared ones); only when every pool is used up does a line come round again."""
    for pool in pools:
        fresh = [line for line in pool if not already_said(line, earlier_messages)]
        if fresh:
            return rng.choice(fresh)
    return rng.choice([line for pool in pools for line in pool])


class OfflinePersona:
    engine = "offline"

    def __init__(self, shared: PersonaLines | None = None) -> None:
        self.shared = shared or load_persona_lines()

    def speak(self, cue: Cue) -> str:
        # One generator per message position: the same session replays identically.
        rng = random.Random(f"{cue.seed}:{len(cue.transcript)}")
        earlier = cue.previous_customer_lines
        if cue.reaction is None:
            return pick_line([cue.scenario.openings[cue.difficulty]], earlier, rng)
        closing = _CLOSING_OUTCOMES.get(cue.status)
        if closing is not None:
            return pick_line(self._lines(cue, closing), earlier, rng)
        reactions = [
            lines.reactions.for_reaction(cue.reaction) for lines in (cue.scenario, self.shared)
        ]
        reaction = pick_line(reactions, earlier, rng).format(quote=cue.quote or "")
        return f"{reaction} {pick_line(self._lines(cue, cue.band.value), earlier, rng)}"

    def _lines(self, cue: Cue, name: str) -> list[list[str]]:
        return [cue.scenario.lines.named(name), self.shared.lines.named(name)]
