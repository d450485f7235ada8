"""The offline persona: the customer speaks from the scenario's lines and the shared ones.

Deterministic for a given session seed, so a replayed script gives the same conversation, and
varied: no line is said twice in a session while its pool still has unused lines. The customer
hears what the agent offered: it names back only the card's offers the agent made, tests a promise
the card rules out, and asks about what is still missing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from string import Formatter

from bot.coaching.practice.mood import Reaction
from bot.coaching.practice.persona import Cue
from bot.coaching.practice.scenarios import (
    ASK_FIELD,
    OFFERS_FIELD,
    QUOTE_FIELD,
    Offer,
    PersonaLines,
    load_persona_lines,
    placeholders,
)
from bot.store.models import SessionStatus

# Reactions to a reply that engages with the problem: the customer then asks what is missing.
_ENGAGED = frozenset({Reaction.progress, Reaction.heard, Reaction.vague})
# Reactions that give way to naming back an offer from the card that the reply made (the card's
# offers are concrete by the scenario's own account, whatever the critique made of the wording).
_ACKNOWLEDGING = frozenset({Reaction.progress, Reaction.heard})


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


def named(offers: Sequence[Offer]) -> str:
    """The offers as the customer names them: "the hire car and a call when the van's ready"."""
    names = [offer.said for offer in offers if offer.said]
    return " and ".join(filter(None, [", ".join(names[:-1]), *names[-1:]]))


def _fillable(pools: Sequence[Sequence[str]], fields: dict[str, str]) -> list[list[str]]:
    """The pools' lines whose every placeholder has words to fill it."""
    known = {name for name, value in fields.items() if value}
    return [[line for line in pool if placeholders(line) <= known] for pool in pools]


def _said(line: str, fields: dict[str, str]) -> str:
    """The line filled in; a value that starts a sentence ("Okay. {offers}.") starts with a
    capital."""
    said = ""
    for literal, name, _, _ in Formatter().parse(line):
        said += literal
        if name is not None:
            value = fields[name]
            if not said.strip() or said.rstrip().endswith((".", "!", "?")):
                value = value[:1].upper() + value[1:]
            said += value
    return said[:1].upper() + said[1:]


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
        if cue.status is SessionStatus.satisfied:
            fields = {OFFERS_FIELD: named(cue.offers_made)}
            return self._line(self._lines(cue, "satisfied"), fields, earlier, rng)
        if cue.status is SessionStatus.gave_up:
            return self._line(self._lines(cue, "gave_up"), {}, earlier, rng)
        said = [self._reaction(cue, earlier, rng)]
        if cue.status is SessionStatus.turn_limit:
            band = cue.band.value
            pools = [
                lines.turn_limit.named(band) for lines in (cue.scenario.lines, self.shared.lines)
            ]
            return " ".join([*said, self._line(pools, {}, earlier, rng)])
        said.append(self._line(self._lines(cue, cue.band.value), {}, earlier, rng))
        return " ".join(said + self._follow_up(cue, earlier, rng))

    def _reaction(self, cue: Cue, earlier: Sequence[str], rng: random.Random) -> str:
        """The line answering what the agent just did: a promise the card rules out is tested,
        the offers just made are named back."""
        reaction = cue.reaction
        assert reaction is not None
        pools = [lines.reactions.for_reaction(reaction) for lines in (cue.scenario, self.shared)]
        if reaction is Reaction.overpromise and cue.ruled_out:
            pools.insert(0, cue.ruled_out[0].challenge)
        fields = {QUOTE_FIELD: cue.quote or "", OFFERS_FIELD: named(cue.offered_now)}
        thanks = [line for offer in cue.offered_now for line in offer.thanks]
        if reaction in _ACKNOWLEDGING and (thanks or fields[OFFERS_FIELD]):
            # Answer the offers just made: their own thanks, or a progress line naming them back.
            progress = [lines.reactions.progress for lines in (cue.scenario, self.shared)]
            naming = [[ln for ln in pool if OFFERS_FIELD in placeholders(ln)] for pool in progress]
            pools = [thanks, *naming]
        return self._line(pools, fields, earlier, rng)

    def _follow_up(self, cue: Cue, earlier: Sequence[str], rng: random.Random) -> list[str]:
        """A promise the card rules out, tested even when the customer reacted to something
        else first; otherwise, when the agent engaged, the question about what is still missing."""
        if cue.ruled_out and cue.reaction is not Reaction.overpromise:
            forbidden, quote = cue.ruled_out
            pools = [forbidden.challenge, self.shared.reactions.overpromise]
            return [self._line(pools, {QUOTE_FIELD: quote}, earlier, rng)]
        missing = cue.still_missing
        if missing and cue.reaction in _ENGAGED:
            if not already_said(missing, earlier[-1:]):
                return [missing]
            again = self._line([self.shared.asked_again], {ASK_FIELD: missing}, earlier, rng)
            return [again]
        return []

    def _line(
        self,
        pools: Sequence[Sequence[str]],
        fields: dict[str, str],
        earlier: Sequence[str],
        rng: random.Random,
    ) -> str:
        return _said(pick_line(_fillable(pools, fields), earlier, rng), fields)

    def _lines(self, cue: Cue, name: str) -> list[list[str]]:
        return [cue.scenario.lines.named(name), self.shared.lines.named(name)]
