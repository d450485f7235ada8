"""What a customer persona is given to speak from, and the contract every persona engine keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.coaching.practice.mood import Difficulty, MoodBand, Reaction
from bot.coaching.practice.scenarios import ForbiddenOffer, Offer, Scenario
from bot.store.models import SessionStatus, TurnRole


@dataclass(frozen=True)
class Turn:
    """One message of a practice conversation; agent turns carry their critique's scores."""

    role: TurnRole
    text: str
    mood_after: int
    step_scores: dict[str, int] | None = None


@dataclass(frozen=True)
class Cue:
    """The customer's next message to write: the mood and what the agent just did are decided by
    the mood model; the persona only puts them into words."""

    scenario: Scenario
    difficulty: Difficulty
    seed: str
    transcript: tuple[Turn, ...]
    mood: int
    band: MoodBand
    status: SessionStatus
    reaction: Reaction | None = None  # None: the opening message
    quote: str | None = None  # the agent's words the reaction may quote back
    # The card's offers the agent made: in the whole session so far, and in the last reply.
    offers_made: tuple[Offer, ...] = ()
    offered_now: tuple[Offer, ...] = ()
    # A promise in the last reply that the card rules out, and the agent's words making it.
    ruled_out: tuple[ForbiddenOffer, str] | None = None

    @property
    def previous_customer_lines(self) -> list[str]:
        return [turn.text for turn in self.transcript if turn.role is TurnRole.customer]

    @property
    def still_missing(self) -> str | None:
        """What the customer asks about next: the first need no offer made so far has met."""
        met = {offer.ask for offer in self.offers_made}
        return next(
            (offer.ask for offer in self.scenario.offers.may if offer.ask and offer.ask not in met),
            None,
        )


class Persona(Protocol):
    engine: str

    def speak(self, cue: Cue) -> str: ...
