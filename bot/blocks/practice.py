"""A practice session as Block Kit: the picker modal, the scenario card, the customer's messages
with their anger meter, the scorecard, the scenario list and the stats.

Customer lines, scenario texts (team scenarios are files anyone may drop in) and quoted agent
replies are escaped, so none can ping a channel or disguise a link; every text is cut to Slack's
limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from bot.blocks.critique import texts as critique_texts
from bot.blocks.text import (
    SECTION_TEXT_LIMIT,
    context,
    escape,
    header,
    inline,
    plain,
    section,
    truncate,
)
from bot.coaching.practice.mood import MAX_MOOD, Difficulty
from bot.coaching.practice.scenarios import Family, Scenario, ScenarioLibrary
from bot.coaching.practice.scorecard import ReplyHighlight, Scorecard
from bot.coaching.practice.service import PracticeStats
from bot.prompt_files import read_toml

PICKER_CALLBACK = "practice_picker"
FAMILY_INPUT = "practice_family"
DIFFICULTY_INPUT = "practice_difficulty"
PLACE_INPUT = "practice_place"
END_ACTION = "practice_end"
TRY_AGAIN_ACTION = "practice_try_again"
PLACE_DM = "dm"
PLACE_CHANNEL = "channel"
DEFAULT_DIFFICULTY = Difficulty.upset

MODAL_TITLE_LIMIT = 24
OPTION_LIMIT = 75
QUOTE_LIMIT = 300
METER_SQUARES = 5
# The meter's colour by anger, hottest first: (lowest mood, square).
METER_COLOURS = ((70, "🟥"), (40, "🟧"), (15, "🟨"), (0, "🟩"))
EMPTY_SQUARE = "⬜"


def texts() -> dict[str, Any]:
    return read_toml("slack", "practice.toml")


# -- the picker ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickerChoice:
    family: Family
    difficulty: Difficulty
    in_channel: bool
    channel_id: str  # where /practice was typed


def picker_modal(families: list[Family], channel_id: str, *, offer_channel: bool) -> dict[str, Any]:
    """The `/practice` picker; `offer_channel` adds "a thread in this channel" to the places."""
    t = texts()
    picker = t["picker"]
    places = [(PLACE_DM, picker["place_dm"])]
    if offer_channel:
        places.append((PLACE_CHANNEL, picker["place_channel"]))
    family_options = [_option(family.value, t["families"][family.value]) for family in families]
    difficulty_options = [
        _option(level.value, t["difficulties"][level.value]) for level in Difficulty
    ]
    place_options = [_option(value, label) for value, label in places]
    return {
        "type": "modal",
        "callback_id": PICKER_CALLBACK,
        "private_metadata": channel_id,
        "title": plain(picker["title"], MODAL_TITLE_LIMIT),
        "submit": plain(picker["submit"], MODAL_TITLE_LIMIT),
        "close": plain(picker["close"], MODAL_TITLE_LIMIT),
        "blocks": [
            section(picker["intro"]),
            _input(FAMILY_INPUT, picker["family_label"], "static_select", family_options),
            _input(
                DIFFICULTY_INPUT,
                picker["difficulty_label"],
                "radio_buttons",
                difficulty_options,
                initial=list(Difficulty).index(DEFAULT_DIFFICULTY),
            ),
            _input(PLACE_INPUT, picker["place_label"], "radio_buttons", place_options),
            context(t["rubric"]),
        ],
    }


def picker_choice(view: dict[str, Any]) -> PickerChoice:
    """What was picked in a submitted picker (every input has an initial option)."""
    values = view["state"]["values"]

    def picked(name: str) -> str:
        return values[name][name]["selected_option"]["value"]

    return PickerChoice(
        family=Family(picked(FAMILY_INPUT)),
        difficulty=Difficulty(picked(DIFFICULTY_INPUT)),
        in_channel=picked(PLACE_INPUT) == PLACE_CHANNEL,
        channel_id=view["private_metadata"],
    )


def _input(
    name: str, label: str, kind: str, options: list[dict[str, Any]], initial: int = 0
) -> dict[str, Any]:
    # The block and its element share the name, so the state is values[name][name].
    return {
        "type": "input",
        "block_id": name,
        "label": plain(label, 2000),
        "element": {
            "type": kind,
            "action_id": name,
            "options": options,
            "initial_option": options[initial],
        },
    }


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, OPTION_LIMIT), "value": value}


# -- the session ---------------------------------------------------------------------------------


def scenario_card(scenario: Scenario, difficulty: Difficulty) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage: who the customer is, what happened, what the
    agent may and may not offer, and the rubric. The session runs in this message's thread."""
    t = texts()
    card = t["card"]
    persona, facts = scenario.persona, scenario.facts
    happened = [card["happened"].format(summary=escape(facts.summary))]
    happened += [f"• {escape(detail)}" for detail in facts.details]
    offers = [card["may"], *(f"• {escape(offer.offer)}" for offer in scenario.offers.may)]
    if scenario.offers.may_not:
        offers.append(card["may_not"])
        offers += [f"• {escape(offer.what)}" for offer in scenario.offers.may_not]
    footer = card["footer"].format(
        family=t["families"][scenario.family.value], difficulty=difficulty.value
    )
    blocks = [
        header(card["header"].format(title=scenario.title)),
        section(
            card["customer"].format(
                name=escape(persona.name), background=escape(persona.background)
            )
        ),
        section("\n".join(happened)),
        section("\n".join(offers)),
        context(footer),
        context(t["rubric"]),
    ]
    return {"text": card["fallback"].format(title=escape(scenario.title)), "blocks": blocks}


def typing_message() -> dict[str, Any]:
    """The cue posted while the customer's answer is prepared, then replaced by it."""
    typing = texts()["typing"]
    return {"text": typing, "blocks": [context(typing)]}


def customer_message(
    text: str, mood: int, mood_change: int, *, session_id: int, active: bool
) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage/chat.update: the customer's words, the anger meter
    and, while the session is active, the End button."""
    t = texts()
    words = escape(truncate(text, SECTION_TEXT_LIMIT - 100))
    blocks = [section(words), context(_meter_line(mood, mood_change))]
    if active:
        blocks.append(_button(END_ACTION, t["buttons"]["end"], str(session_id), "danger"))
    return {"text": t["customer"]["fallback"].format(text=words), "blocks": blocks}


def meter(mood: int) -> str:
    """🟥🟥🟥🟥⬜ for 80: one square per fifth of the anger scale, coloured by how hot."""
    filled = (mood * METER_SQUARES + MAX_MOOD // 2) // MAX_MOOD  # rounding halves up
    colour = next(square for floor, square in METER_COLOURS if mood >= floor)
    return colour * filled + EMPTY_SQUARE * (METER_SQUARES - filled)


def _meter_line(mood: int, change: int) -> str:
    t = texts()["customer"]
    difference = ""
    if change < 0:
        difference = t["calmer"].format(amount=-change)
    elif change > 0:
        difference = t["angrier"].format(amount=change)
    return t["meter"].format(meter=meter(mood), mood=mood, change=difference)


# -- the scorecard -------------------------------------------------------------------------------


def scorecard_message(scorecard: Scorecard) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage: how it went, and Try again (same scenario and
    difficulty)."""
    t = texts()
    s = t["scorecard"]
    try_again = f"{scorecard.scenario_id} {scorecard.difficulty.value}"
    blocks = [
        header(s["header"].format(title=scorecard.scenario_title)),
        section(
            s["summary"].format(
                outcome=scorecard.outcome_text,
                difficulty=scorecard.difficulty.value,
                replies=scorecard.replies,
            )
        ),
        section(s["trajectory"].format(moods=" → ".join(map(str, scorecard.mood_trajectory)))),
        section(s["steps"].format(averages=_step_averages(scorecard.step_averages))),
        *(section(text) for text in _highlights(scorecard)),
        section(_triggers_text(scorecard)),
        *(section(text) for text in _offers_texts(scorecard)),
        section(s["next"].format(advice=escape(scorecard.practise_next))),
        _button(TRY_AGAIN_ACTION, t["buttons"]["try_again"], try_again, "primary"),
    ]
    fallback = s["fallback"].format(
        title=escape(scorecard.scenario_title), outcome=scorecard.outcome_text
    )
    return {"text": fallback, "blocks": blocks}


def ended_session_message(scenario_id: str, difficulty: Difficulty) -> dict[str, Any]:
    """For a reply in the thread of a session that is over: say so, with Try again."""
    t = texts()
    text = t["session_over"]
    try_again = f"{scenario_id} {difficulty.value}"
    return {
        "text": text,
        "blocks": [
            section(text),
            _button(TRY_AGAIN_ACTION, t["buttons"]["try_again"], try_again, "primary"),
        ],
    }


def _highlights(scorecard: Scorecard) -> list[str]:
    s = texts()["scorecard"]
    shown = [(s["best"], scorecard.best_reply), (s["worst"], scorecard.worst_reply)]
    return [_highlight(template, reply) for template, reply in shown if reply is not None]


def _highlight(template: str, reply: ReplyHighlight) -> str:
    return template.format(
        number=reply.reply_number, overall=reply.overall, quote=inline(reply.quote, QUOTE_LIMIT)
    )


def _triggers_text(scorecard: Scorecard) -> str:
    s = texts()["scorecard"]
    if not scorecard.triggers:
        return s["no_triggers"]
    lines = [s["triggers"]]
    for use in scorecard.triggers:
        quote = inline(use.first_quote, QUOTE_LIMIT)
        lines.append(
            s["trigger"].format(kind=use.kind.replace("_", " "), count=use.replies, quote=quote)
        )
        if use.better:
            lines.append(f"   _{escape(use.better)}_")
    return "\n".join(lines)


def _offers_texts(scorecard: Scorecard) -> list[str]:
    """Which of the card's offers were made (and in which reply), and the promises the card
    rules out; nothing for a scorecard stored before offers were recorded."""
    s = texts()["scorecard"]
    offers = [
        s["offer_made"].format(offer=escape(made.offer), number=made.reply_number)
        for made in scorecard.offers_made
    ]
    offers += [
        s["offer_not_made"].format(offer=escape(offer)) for offer in scorecard.offers_not_made
    ]
    said = ["\n".join([s["offers"], *offers])] if offers else []
    promises = [
        s["ruled_out_promise"].format(
            number=promise.reply_number,
            quote=inline(promise.quote, QUOTE_LIMIT),
            what=escape(promise.what),
        )
        for promise in scorecard.promises_ruled_out
    ]
    if promises:
        said.append("\n".join([s["ruled_out"], *promises]))
    return said


def _step_averages(averages: dict[str, float]) -> str:
    labels = critique_texts()["steps"]
    return " · ".join(f"{labels[step]} {average:.1f}" for step, average in averages.items())


# -- list and stats ------------------------------------------------------------------------------


def scenario_list(library: ScenarioLibrary) -> dict[str, Any]:
    """Keyword arguments for an ephemeral answer: every scenario, grouped by family."""
    t = texts()
    by_family = sorted(
        library.scenarios.values(), key=lambda s: (list(Family).index(s.family), s.id)
    )
    blocks = [header(t["list"]["header"])]
    for family, scenarios in groupby(by_family, key=lambda s: s.family):
        lines = [f"*{t['families'][family.value]}*"]
        lines += [
            t["list"]["scenario"].format(
                id=s.id, industry=escape(s.industry), title=escape(s.title)
            )
            for s in scenarios
        ]
        blocks.append(section("\n".join(lines)))
    blocks.append(context(t["list"]["footer"]))
    return {"text": t["list"]["header"], "blocks": blocks}


def stats_message(stats: PracticeStats) -> dict[str, Any]:
    """Keyword arguments for an ephemeral answer: the user's own practice history."""
    t = texts()["stats"]
    if stats.sessions == 0:
        return {"text": t["none"]}
    outcomes = ", ".join(
        f"{count} {outcome.replace('_', ' ')}" for outcome, count in stats.outcomes.items()
    )
    lines = [
        t["summary"].format(sessions=stats.sessions, replies=stats.replies, outcomes=outcomes),
        t["steps"].format(averages=_step_averages(stats.step_averages)),
    ]
    if stats.best_overall is not None:
        lines.append(t["best"].format(best=stats.best_overall))
    lines.append(
        t["scenarios"].format(scenarios=", ".join(f"`{s}`" for s in stats.scenarios_practised))
    )
    text = "\n".join(lines)
    return {"text": text, "blocks": [section(text)]}


# -- helpers -------------------------------------------------------------------------------------


def _button(action_id: str, label: str, value: str, style: str) -> dict[str, Any]:
    """An actions block with one button."""
    button = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, OPTION_LIMIT),
        "value": value,
        "style": style,
    }
    return {"type": "actions", "elements": [button]}
