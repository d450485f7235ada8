"""The critique of one reply to an upset customer, as the ASAP method sees it (METHOD.md §1-2).

These models are the contract between the engines, the CLI and the Slack layer: every engine
returns a `Critique`, serialisable to JSON with `model_dump_json()`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STEPS = ("apologize", "sympathize", "responsibility", "act")
# Characters of a reply that are critiqued (a draft, a Slack message, a practice reply); the rest
# is cut off, so a huge message costs no more than a long one and the note says so.
MAX_REPLY_CHARS = 4000
StepName = Literal["apologize", "sympathize", "responsibility", "act"]
Score = Annotated[int, Field(ge=0, le=2, description="0 missing, 1 partial, 2 done")]


class TriggerKind(StrEnum):
    """The inflaming wordings of METHOD.md §2."""

    calm_down = "calm_down"
    policy_wall = "policy_wall"
    blame_customer = "blame_customer"
    refusal = "refusal"
    blame_others = "blame_others"
    passing_the_buck = "passing_the_buck"
    repeating = "repeating"
    sarcasm = "sarcasm"
    shouting = "shouting"
    jargon = "jargon"


class CritiqueRequest(BaseModel):
    """What to critique: the agent's reply, and what it answers when known."""

    model_config = ConfigDict(str_strip_whitespace=True)

    agent_reply: str = Field(min_length=1, description="The reply the agent sent or drafted.")
    customer_message: str | None = Field(
        None, description="The message(s) the reply answers; a list is joined line by line."
    )
    scenario_facts: str | None = Field(
        None, description='Known facts, e.g. "the customer dropped the device".'
    )

    @field_validator("customer_message", mode="before")
    @classmethod
    def _join_thread(cls, value: object) -> object:
        if isinstance(value, list) and all(isinstance(line, str) for line in value):
            return "\n".join(value)
        return value


class StepVerdict(BaseModel):
    score: Score
    evidence: list[str] = Field(
        default_factory=list, description="Verbatim quotes from the reply that earned the score."
    )
    tip: str = Field("", description="One concrete, kind tip that would make this step a 2.")

    @model_validator(mode="after")
    def _credit_needs_evidence(self) -> StepVerdict:
        if self.score > 0 and not self.evidence:
            raise ValueError("a step scored above 0 must quote its evidence")
        return self


class Steps(BaseModel):
    apologize: StepVerdict
    sympathize: StepVerdict
    responsibility: StepVerdict
    act: StepVerdict

    def items(self) -> list[tuple[StepName, StepVerdict]]:
        return [(name, getattr(self, name)) for name in STEPS]


class Trigger(BaseModel):
    kind: TriggerKind
    quote: str = Field(description="The wording, verbatim from the reply.")
    why: str = Field(description="Why it makes an upset customer angrier.")
    better: str = Field(description="What to say instead.")


class WayOut(BaseModel):
    """Seed 002: when the customer caused the problem, does the reply let them save face?"""

    customer_at_fault: bool
    offered: bool = Field(description="The reply gives the customer a face-saving way out.")
    evidence: list[str] = Field(default_factory=list)
    tip: str = ""


class TokenUsage(BaseModel):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class EngineName(StrEnum):
    offline = "offline"
    llm = "llm"


class Critique(BaseModel):
    steps: Steps
    triggers: list[Trigger] = Field(default_factory=list)
    way_out: WayOut
    overall: int = Field(ge=0, le=100)
    summary: str
    rewrite: str = Field(
        description="The reply with what was missing added; placeholders like [when?] mark "
        "facts only the agent can supply."
    )
    engine: EngineName
    fallback_reason: str | None = Field(
        None, description="Why the LLM engine handed over to the offline engine."
    )
    notice: str | None = Field(
        None,
        description="What the agent should know about how this critique was made, in words for "
        "them (e.g. that their LLM allowance is used up, so the offline engine answered).",
    )
    unconfirmed: dict[StepName, Score] = Field(
        default_factory=dict,
        description="Steps the LLM scored higher than the offline rules could confirm from its "
        "evidence, with the LLM's score: the score shown is the rules'.",
    )
    model: str | None = None
    usage: TokenUsage | None = Field(None, description="Tokens used by the LLM engine.")
    not_scored: str | None = Field(
        None,
        description="Set when the engine could not read the reply (the offline engine reads "
        "English only): why, in words for the agent. Steps are then 0 with no evidence or tips, "
        "overall is 0, and none of them is a score to show or count.",
    )

    def scores(self) -> dict[str, int]:
        return {name: verdict.score for name, verdict in self.steps.items()}


class CritiqueEngine(Protocol):
    def critique(self, request: CritiqueRequest) -> Critique: ...
