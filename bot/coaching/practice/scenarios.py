"""Practice scenarios as data: one TOML file per scenario, validated with pydantic.

Built-ins live in `prompts/scenarios/`; a team adds its own by dropping files in SCENARIOS_DIR
(a team file with a built-in's id replaces it). A malformed file is reported with its file and
line (TOML syntax) or field (schema) and skipped: one bad file never stops practice.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.coaching.practice.mood import Difficulty, MoodRules, Reaction
from bot.coaching.practice.offers import Heard, Wording, heard, own_wordings
from bot.prompt_files import read_toml

log = logging.getLogger(__name__)

SCENARIO_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
QUOTE_FIELD, OFFERS_FIELD, ASK_FIELD = "quote", "offers", "ask"
# Reactions that have the agent's own words to quote back with {quote}.
QUOTING_REACTIONS = frozenset(
    {Reaction.cornered, Reaction.trigger, Reaction.overpromise, Reaction.vague}
)
# Lines that may name the card's offers the agent made, with {offers} ("the hire car and the taxi").
OFFER_NAMING_REACTIONS = frozenset({Reaction.progress})
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")

Line = Annotated[str, Field(min_length=1)]


class Family(StrEnum):
    """The nine scenario families of METHOD.md §3: seven causes of upset and two situations."""

    unreachable = "unreachable"
    no_reply = "no_reply"
    slow_response = "slow_response"
    broken_promise = "broken_promise"
    missed_deadline = "missed_deadline"
    recurring_issue = "recurring_issue"
    defensive_staff = "defensive_staff"
    customer_at_fault = "customer_at_fault"
    hot_customer = "hot_customer"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Persona(_Data):
    name: str = Field(min_length=1)
    voice: str = Field(min_length=1, description="How they write, for the LLM persona.")
    background: str = Field(min_length=1)


class Facts(_Data):
    summary: str = Field(min_length=1, description="What happened, as the agent can see it.")
    customer_at_fault: bool
    details: list[Line] = Field(default_factory=list)


class Offer(_Data):
    """One offer the agent may make: how the customer hears it, names it and misses it."""

    offer: str = Field(min_length=1, description="The offer, as the scenario card shows it.")
    heard: list[Line] = Field(
        default_factory=list,
        description="Wordings that make it (prompts/practice/offers.toml); none: two of the "
        "offer's own first words in one sentence.",
    )
    said: str | None = Field(
        None, min_length=1, description='How the customer names it back: "the hire car".'
    )
    ask: str | None = Field(
        None,
        min_length=1,
        description="What the customer asks while it is not offered; offers meeting the same "
        "need share the same ask.",
    )
    thanks: list[Line] = Field(
        default_factory=list,
        description="What the customer may say when it is just offered (no detail, such as a "
        "time, that the agent's words might not have given).",
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        return {"offer": data} if isinstance(data, str) else data

    def wordings(self) -> list[Wording]:
        if not self.heard:
            return own_wordings(self.offer)
        return [Wording.parse(wording) for wording in self.heard]


class ForbiddenOffer(_Data):
    what: str = Field(min_length=1, description="What the agent may not offer, and why.")
    phrases: list[Line] = Field(
        min_length=1, description="Wordings that make that offer (prompts/practice/offers.toml)."
    )
    challenge: list[Line] = Field(
        default_factory=list,
        description="How the customer tests that promise; may quote the agent with {quote}.",
    )

    @model_validator(mode="after")
    def _challenge_quotes_only(self) -> Self:
        for line in self.challenge:
            unknown = placeholders(line) - {QUOTE_FIELD}
            if unknown:
                raise ValueError(f"challenge line {line!r} uses unknown placeholder(s) {unknown}")
        return self

    def wordings(self) -> list[Wording]:
        return [Wording.parse(phrase) for phrase in self.phrases]


class Offers(_Data):
    may: list[Offer] = Field(min_length=1)
    may_not: list[ForbiddenOffer] = Field(default_factory=list)


class BandLines(_Data):
    """Lines per mood band (how the customer leaves when the turn limit is reached)."""

    calming: list[Line] = Field(default_factory=list)
    upset: list[Line] = Field(default_factory=list)
    angry: list[Line] = Field(default_factory=list)
    furious: list[Line] = Field(default_factory=list)

    def named(self, name: str) -> list[str]:
        """The lines of a mood band (or, for `Lines`, an ending), by its name."""
        return getattr(self, name)


class Lines(BandLines):
    """Scenario-specific customer lines per mood band and outcome, added to the generic ones.
    `satisfied` lines may name the offers the agent made with {offers}."""

    satisfied: list[Line] = Field(default_factory=list)
    gave_up: list[Line] = Field(default_factory=list)
    turn_limit: BandLines = Field(default_factory=BandLines)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        pools = {name: getattr(self, name) for name in ("calming", "upset", "angry", "furious")}
        pools |= {"gave_up": self.gave_up, "satisfied": self.satisfied}
        pools |= {f"turn_limit.{band}": lines for band, lines in self.turn_limit}
        for name, lines in pools.items():
            allowed = {OFFERS_FIELD} if name == "satisfied" else set()
            for line in lines:
                unknown = placeholders(line) - allowed
                if unknown:
                    raise ValueError(
                        f"{name} line {line!r} uses unknown placeholder(s) {sorted(unknown)}; "
                        f"allowed: {sorted(allowed) or 'none'}"
                    )
        return self


class Reactions(_Data):
    """Lines answering what the agent just did; some may quote the agent's words as {quote}."""

    cornered: list[Line] = Field(default_factory=list)
    trigger: list[Line] = Field(default_factory=list)
    overpromise: list[Line] = Field(default_factory=list)
    repeated: list[Line] = Field(default_factory=list)
    vague: list[Line] = Field(default_factory=list)
    progress: list[Line] = Field(default_factory=list)
    heard: list[Line] = Field(default_factory=list)
    ignored: list[Line] = Field(default_factory=list)

    def for_reaction(self, reaction: Reaction) -> list[str]:
        return getattr(self, reaction.value)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        for reaction in Reaction:
            allowed = {QUOTE_FIELD} if reaction in QUOTING_REACTIONS else set()
            allowed |= {OFFERS_FIELD} if reaction in OFFER_NAMING_REACTIONS else set()
            for line in self.for_reaction(reaction):
                unknown = placeholders(line) - allowed
                if unknown:
                    raise ValueError(
                        f"{reaction.value} line {line!r} uses unknown placeholder(s) "
                        f"{sorted(unknown)}; allowed: {sorted(allowed) or 'none'}"
                    )
        return self


class PersonaLines(_Data):
    """Customer lines shared by every scenario: `prompts/practice/persona_lines.toml`."""

    lines: Lines
    reactions: Reactions
    asked_again: list[Line] = Field(
        min_length=1, description="Asking again what is still missing: {ask} is the question."
    )

    @model_validator(mode="after")
    def _asks(self) -> Self:
        if any(placeholders(line) != {ASK_FIELD} for line in self.asked_again):
            raise ValueError("every asked_again line says the question once, as {ask}")
        return self


class Scenario(_Data):
    id: str = Field(pattern=SCENARIO_ID.pattern, description="The file name without .toml.")
    title: str = Field(min_length=1)
    family: Family
    industry: str = Field(min_length=1)
    persona: Persona
    facts: Facts
    wants: list[Line] = Field(min_length=1, description="What would satisfy the customer.")
    offers: Offers
    openings: dict[Difficulty, list[Line]]
    lines: Lines = Field(default_factory=Lines)
    reactions: Reactions = Field(default_factory=Reactions)
    mood: MoodRules

    @model_validator(mode="after")
    def _opening_per_difficulty(self) -> Self:
        missing = [level.value for level in Difficulty if not self.openings.get(level)]
        if missing:
            raise ValueError(f"openings need at least one line for: {', '.join(missing)}")
        for level, lines in self.openings.items():
            if any(placeholders(line) for line in lines):
                raise ValueError(f"openings.{level.value} lines take no placeholders")
        return self

    @model_validator(mode="after")
    def _cornered_only_when_at_fault(self) -> Self:
        if self.reactions.cornered and not self.facts.customer_at_fault:
            raise ValueError(
                "reactions.cornered lines are only said by an at-fault customer: "
                "set facts.customer_at_fault = true or move them to reactions.trigger"
            )
        return self

    def offers_made(self, reply: str) -> list[Heard]:
        """The card's offers (`offers.may`) the reply makes, in the reply's order."""
        return heard([offer.wordings() for offer in self.offers.may], reply)

    def promises_ruled_out(self, reply: str) -> list[Heard]:
        """The offers the card rules out (`offers.may_not`) that the reply makes all the same."""
        return heard([offer.wordings() for offer in self.offers.may_not], reply)

    def start_mood(self, difficulty: Difficulty) -> int:
        return self.mood.difficulty[difficulty].start_mood


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


@dataclass(frozen=True)
class ScenarioProblem:
    """Why one scenario file was skipped, pointing at the file and line or field."""

    source: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"


class ScenarioError(ValueError):
    def __init__(self, problem: ScenarioProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in overrides.items():
        both_tables = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = _merge(merged[key], value) if both_tables else value
    return merged


def _schema_problem(source: str, error: ValidationError) -> ScenarioProblem:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(file)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return ScenarioProblem(source, f"field {where}: {first['msg']}{more}")


def parse_scenario(text: str, scenario_id: str, source: str) -> Scenario:
    """One scenario from its TOML text; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line = int(position.group(1)) if position else None
        raise ScenarioError(
            ScenarioProblem(source, _TOML_POSITION.sub("", message), line)
        ) from None
    data["id"] = scenario_id
    mood = data.get("mood", {})
    if isinstance(mood, Mapping):  # anything else is left for validation to report
        data["mood"] = _merge(read_toml("practice", "mood.toml"), mood)
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_schema_problem(source, error)) from None


@dataclass(frozen=True)
class ScenarioLibrary:
    scenarios: Mapping[str, Scenario]
    problems: tuple[ScenarioProblem, ...] = field(default=())

    def get(self, scenario_id: str) -> Scenario | None:
        return self.scenarios.get(scenario_id)

    def ids(self) -> list[str]:
        return sorted(self.scenarios)

    def of_family(self, family: Family) -> list[str]:
        """The ids of the family's scenarios (its variants: other industries, other facts)."""
        return [s.id for s in self.scenarios.values() if s.family == family]

    def close_matches(self, requested: str, limit: int = 3) -> list[str]:
        return difflib.get_close_matches(requested, self.ids(), n=limit, cutoff=0.4)


def _scenario_files(folder: Traversable) -> list[Traversable]:
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda entry: entry.name,
    )


def _load_folder(
    entries: Iterable[Traversable], label: str
) -> tuple[list[Scenario], list[ScenarioProblem]]:
    scenarios, problems = [], []
    for entry in entries:
        scenario_id = entry.name.removesuffix(".toml")
        source = f"{label}/{entry.name}"
        try:
            if not SCENARIO_ID.match(scenario_id):
                raise ScenarioError(
                    ScenarioProblem(source, "file name must be lowercase letters, digits and -")
                )
            scenarios.append(parse_scenario(entry.read_text(encoding="utf-8"), scenario_id, source))
        except ScenarioError as error:
            log.warning("skipping practice scenario: %s", error.problem)
            problems.append(error.problem)
        except (OSError, UnicodeDecodeError) as error:
            problem = ScenarioProblem(source, f"cannot read: {error}")
            log.warning("skipping practice scenario: %s", problem)
            problems.append(problem)
    return scenarios, problems


def load_scenarios(team_dir: Path | None = None) -> ScenarioLibrary:
    """The built-in scenarios, plus (replacing same ids) the team's own from `team_dir`."""
    built_in = files("bot.prompts").joinpath("scenarios")
    scenarios, problems = _load_folder(_scenario_files(built_in), "prompts/scenarios")
    if team_dir is not None:
        if team_dir.is_dir():
            team, team_problems = _load_folder(_scenario_files(team_dir), str(team_dir))
            scenarios += team
            problems += team_problems
        else:
            problem = ScenarioProblem(str(team_dir), "SCENARIOS_DIR is not a folder")
            log.warning("skipping the team's practice scenarios: %s", problem)
            problems.append(problem)
    by_id = {scenario.id: scenario for scenario in scenarios}
    return ScenarioLibrary(by_id, tuple(problems))


def load_persona_lines() -> PersonaLines:
    return PersonaLines.model_validate(read_toml("practice", "persona_lines.toml"))
