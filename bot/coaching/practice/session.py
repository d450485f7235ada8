"""One practice conversation and its rules of play, in memory.

The database service and the terminal both drive a `Roleplay`: the service rebuilds it from the
stored turns for every reply, so a restart loses nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from bot.coaching.critique import MAX_REPLY_CHARS, Critique, CritiqueEngine, CritiqueRequest
from bot.coaching.practice.mood import (
    MAX_MOOD,
    Difficulty,
    EarlierReply,
    MoodChange,
    MoodRules,
    ReplySignals,
    move_mood,
    read_signals,
)
from bot.coaching.practice.offers import Heard
from bot.coaching.practice.persona import Cue, Persona, Turn
from bot.coaching.practice.scenarios import Scenario
from bot.store.models import SessionStatus, TurnRole

# Keys of an agent turn's `step_scores` besides the four steps.
OVERALL, MOOD_CHANGE, WAY_OUT, TRIGGER_PREFIX = "overall", "mood_change", "way_out", "trigger."


class SessionOver(RuntimeError):
    """A reply came after the conversation ended."""


class ReplyNotRead(ValueError):
    """The critic could not read the reply (e.g. not in English for the offline engine): the
    turn is not played, the mood stays, and the agent is told why."""


@dataclass(frozen=True)
class PlayedTurn:
    """`truncated`: the reply was longer than MAX_REPLY_CHARS and only its start was played."""

    agent: Turn
    customer: Turn
    change: MoodChange
    status: SessionStatus
    truncated: bool = False


def scenario_facts(scenario: Scenario) -> str:
    """The facts the critique judges against, including who is at fault (for the way out)."""
    fault = "is at fault" if scenario.facts.customer_at_fault else "is not at fault"
    return " ".join([scenario.facts.summary, *scenario.facts.details, f"The customer {fault}."])


def overall_score(turn: Turn) -> int:
    """The critique's overall score of an agent turn."""
    return (turn.step_scores or {}).get(OVERALL, 0)


def recorded_scores(
    critique: Critique, change: MoodChange, signals: ReplySignals
) -> dict[str, int]:
    scores: dict[str, int] = {name: verdict.score for name, verdict in critique.steps.items()}
    scores[OVERALL] = critique.overall
    scores[MOOD_CHANGE] = change.delta
    if signals.customer_at_fault:
        scores[WAY_OUT] = int(signals.way_out_offered)
    scores.update({TRIGGER_PREFIX + kind.value: 1 for kind in signals.trigger_kinds})
    return scores


class Roleplay:
    def __init__(
        self,
        scenario: Scenario,
        difficulty: Difficulty,
        *,
        critic: CritiqueEngine,
        persona: Persona,
        turn_limit: int,
        seed: str,
        turns: Iterable[Turn] = (),
        status: SessionStatus = SessionStatus.active,
    ) -> None:
        self.scenario = scenario
        self.difficulty = difficulty
        self.critic = critic
        self.persona = persona
        self.turn_limit = turn_limit
        self.seed = seed
        self.turns = list(turns)
        self.status = status

    @property
    def rules(self) -> MoodRules:
        return self.scenario.mood

    @property
    def start_mood(self) -> int:
        return self.scenario.start_mood(self.difficulty)

    @property
    def mood(self) -> int:
        return self.turns[-1].mood_after if self.turns else self.start_mood

    @property
    def agent_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.role is TurnRole.agent]

    @property
    def is_active(self) -> bool:
        return self.status is SessionStatus.active

    def open(self) -> Turn:
        """The customer's first message."""
        if self.turns:
            raise RuntimeError("the conversation has already started")
        return self._customer_says(None)

    def reply(self, text: str) -> PlayedTurn:
        if not self.is_active:
            raise SessionOver(f"the session is over ({self.status.value})")
        if not text.strip():
            raise ValueError("an agent reply needs some text")
        truncated = len(text) > MAX_REPLY_CHARS  # a huge reply costs no more than a long one
        text = text[:MAX_REPLY_CHARS]
        critique = self.critic.critique(
            CritiqueRequest(
                agent_reply=text,
                customer_message=self._last_customer_message(),
                scenario_facts=scenario_facts(self.scenario),
            )
        )
        if critique.not_scored:
            raise ReplyNotRead(critique.not_scored)
        ruled_out = next(iter(self.scenario.promises_ruled_out(text)), None)
        signals = self._signals(critique, text, ruled_out.quote if ruled_out else None)
        change = move_mood(self.rules, self.difficulty, self.mood, signals)
        agent = Turn(TurnRole.agent, text, change.after, recorded_scores(critique, change, signals))
        self.turns.append(agent)
        self.status = self._status_after(signals, change)
        customer = self._customer_says(change, ruled_out)
        return PlayedTurn(agent, customer, change, self.status, truncated)

    def finish(self, status: SessionStatus) -> None:
        """End early: the agent ended it, or it timed out."""
        if self.is_active:
            self.status = status

    def _signals(self, critique: Critique, text: str, ruled_out: str | None) -> ReplySignals:
        earlier = [
            EarlierReply(turn.text, acted=(turn.step_scores or {}).get("act") == 2)
            for turn in self.agent_turns
        ]
        return read_signals(
            critique,
            text,
            customer_at_fault=self.scenario.facts.customer_at_fault,
            ruled_out_promise=ruled_out,
            earlier=earlier,
            repeat_similarity=self.rules.repeat_similarity,
        )

    def _status_after(self, signals: ReplySignals, change: MoodChange) -> SessionStatus:
        if change.after < self.rules.satisfied_below and signals.acted:
            return SessionStatus.satisfied
        if self._replies_at_max_mood() >= self.rules.give_up_after:
            return SessionStatus.gave_up
        if len(self.agent_turns) >= self.turn_limit:
            return SessionStatus.turn_limit
        return SessionStatus.active

    def _replies_at_max_mood(self) -> int:
        count = 0
        for turn in reversed(self.agent_turns):
            if turn.mood_after < MAX_MOOD:
                break
            count += 1
        return count

    def _last_customer_message(self) -> str | None:
        said = [turn.text for turn in self.turns if turn.role is TurnRole.customer]
        return said[-1] if said else None

    def _customer_says(
        self, reaction_change: MoodChange | None, ruled_out: Heard | None = None
    ) -> Turn:
        """The customer's next message; `ruled_out`: a promise the last reply made that the card
        rules out."""
        card = self.scenario.offers
        made = [[h.index for h in self.scenario.offers_made(t.text)] for t in self.agent_turns]
        cue = Cue(
            scenario=self.scenario,
            difficulty=self.difficulty,
            seed=self.seed,
            transcript=tuple(self.turns),
            mood=self.mood,
            band=self.rules.band(self.mood),
            status=self.status,
            reaction=reaction_change.reaction if reaction_change else None,
            quote=reaction_change.quote if reaction_change else None,
            offers_made=tuple(card.may[i] for i in dict.fromkeys(itertools.chain(*made))),
            offered_now=tuple(card.may[i] for i in made[-1]) if made else (),
            ruled_out=(card.may_not[ruled_out.index], ruled_out.quote) if ruled_out else None,
        )
        turn = Turn(TurnRole.customer, self.persona.speak(cue), self.mood)
        self.turns.append(turn)
        return turn
