"""`asap-coach practice`: role-play an upset customer in the terminal, no Slack or database.

Interactive by default; `--script FILE` plays one agent reply per line and `--json` prints the
whole session as one JSON object, for checking scenarios and the mood model by hand or in CI.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
from collections.abc import Iterable
from typing import Any

from bot.cli._common import fail, settings_or_exit
from bot.coaching.engines import EngineChoice, build_critique_engine
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import Scenario, ScenarioLibrary, load_scenarios
from bot.coaching.practice.scorecard import Scorecard, build_scorecard
from bot.coaching.practice.session import ReplyNotRead, Roleplay
from bot.settings import Settings
from bot.store.models import SessionStatus

END_COMMAND = "/end"
_MOOD_BAR_WIDTH = 10


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "practice",
        help="Practise on a role-played upset customer in the terminal.",
        description="The bot plays a difficult customer; calm them with the ASAP method. Type "
        f"your replies; {END_COMMAND} (or Ctrl-D) ends the session and shows the scorecard.",
    )
    parser.add_argument("scenario", nargs="?", help="scenario id (see --list); default: random")
    parser.add_argument(
        "--difficulty",
        choices=[level.value for level in Difficulty],
        default=Difficulty.upset.value,
        help="how upset the customer starts (default: upset)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--script", metavar="FILE", help="play the agent replies in FILE, one per line"
    )
    parser.add_argument("--json", action="store_true", help="JSON output (with --list, --script)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use the offline critique and persona even when OPENAI_API_KEY is set",
    )
    parser.add_argument(
        "--seed",
        help="seed of the customer's lines (default: fixed for --script, random when interactive)",
    )
    parser.set_defaults(handler=practice)


def practice(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    library = load_scenarios(settings.scenarios_dir)
    if args.list:
        return list_scenarios(library, as_json=args.json)
    if args.json and not args.script:
        fail("--json works with --list or --script")
    if args.script and not args.scenario:
        fail("--script needs a scenario id (see `asap-coach practice --list`)")
    scenario = _scenario_or_exit(library, args.scenario)
    difficulty = Difficulty(args.difficulty)
    seed = args.seed or (f"{scenario.id}:{difficulty}" if args.script else secrets.token_hex(8))
    roleplay = _roleplay(settings, scenario, difficulty, seed, offline=args.offline)
    if args.script:
        return play_script(roleplay, _script_lines(args.script), as_json=args.json)
    return play_interactively(roleplay)


def _scenario_or_exit(library: ScenarioLibrary, requested: str | None) -> Scenario:
    if requested is None:
        if not library.ids():
            fail("no practice scenarios could be loaded")
        return library.scenarios[random.choice(library.ids())]
    scenario = library.get(requested)
    if scenario is None:
        matches = library.close_matches(requested)
        hint = f" Did you mean: {', '.join(matches)}?" if matches else ""
        fail(f"unknown scenario {requested!r}.{hint} See `asap-coach practice --list`.")
    return scenario


def _roleplay(
    settings: Settings, scenario: Scenario, difficulty: Difficulty, seed: str, *, offline: bool
) -> Roleplay:
    choice = EngineChoice.offline if offline else EngineChoice.auto
    return Roleplay(
        scenario,
        difficulty,
        critic=build_critique_engine(settings, choice),
        persona=build_persona(settings, offline_only=offline),
        turn_limit=settings.practice_turn_limit,
        seed=seed,
    )


def _script_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as file:
            return [line.strip() for line in file if line.strip()]
    except OSError as error:
        fail(f"cannot read the script {path}: {error.strerror}")


# -- listing ------------------------------------------------------------------------------------


def _listing(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "title": scenario.title,
        "family": scenario.family.value,
        "industry": scenario.industry,
        "customer_at_fault": scenario.facts.customer_at_fault,
        "difficulties": {level.value: scenario.start_mood(level) for level in Difficulty},
    }


def list_scenarios(library: ScenarioLibrary, *, as_json: bool) -> int:
    for problem in library.problems:
        print(f"asap-coach: skipped {problem}", file=sys.stderr)
    scenarios = [library.scenarios[scenario_id] for scenario_id in library.ids()]
    if as_json:
        print(json.dumps([_listing(scenario) for scenario in scenarios], indent=2))
        return 0
    width = max((len(scenario.id) for scenario in scenarios), default=0)
    levels = "/".join(level.value for level in Difficulty)
    for scenario in scenarios:
        print(f"{scenario.id:<{width}}  {scenario.family.value:<17}  {levels}  {scenario.title}")
    return 0


# -- playing ------------------------------------------------------------------------------------


def play_script(roleplay: Roleplay, replies: Iterable[str], *, as_json: bool) -> int:
    opening = roleplay.open()
    turns = []
    if not as_json:
        _print_customer(roleplay, opening.text, opening.mood_after)
    for reply in replies:
        if not roleplay.is_active:
            break
        try:
            played = roleplay.reply(reply)
        except ReplyNotRead as not_read:
            print(f"(not played: {not_read})", file=sys.stderr)
            continue
        turns.append(
            _turn_json(roleplay.scenario, reply, played.customer.text, played.change.after)
        )
        if not as_json:
            print(f"\nyou> {reply}")
            _print_customer(roleplay, played.customer.text, played.change.after)
    roleplay.finish(SessionStatus.ended)
    scorecard = _scorecard(roleplay)
    if as_json:
        print(json.dumps(_session_json(roleplay, opening.text, turns, scorecard), indent=2))
    else:
        print(render_scorecard(scorecard))
    return 0


def play_interactively(roleplay: Roleplay) -> int:
    scenario = roleplay.scenario
    print(f"{scenario.title} — {scenario.family.value.replace('_', ' ')}, {roleplay.difficulty}")
    print(f"Reply as the support agent. {END_COMMAND} or Ctrl-D ends the session.\n")
    opening = roleplay.open()
    _print_customer(roleplay, opening.text, opening.mood_after)
    while roleplay.is_active:
        try:
            reply = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if reply == END_COMMAND:
            break
        if reply:
            try:
                played = roleplay.reply(reply)
            except ReplyNotRead as not_read:
                print(f"(not played: {not_read})")
                continue
            _print_customer(roleplay, played.customer.text, played.change.after)
    roleplay.finish(SessionStatus.ended)
    print(render_scorecard(_scorecard(roleplay)))
    return 0


def _turn_json(scenario: Scenario, reply: str, customer: str, mood: int) -> dict[str, Any]:
    """One exchange, with the card's offers the reply made and the promises it broke."""
    return {
        "agent": reply,
        "customer": customer,
        "mood": mood,
        "offers_made": [scenario.offers.may[h.index].offer for h in scenario.offers_made(reply)],
        "promises_ruled_out": [
            scenario.offers.may_not[h.index].what for h in scenario.promises_ruled_out(reply)
        ],
    }


def _scorecard(roleplay: Roleplay) -> Scorecard:
    return build_scorecard(roleplay.scenario, roleplay.difficulty, roleplay.status, roleplay.turns)


def _session_json(
    roleplay: Roleplay, opening: str, turns: list[dict[str, Any]], scorecard: Scorecard
) -> dict[str, Any]:
    return {
        "scenario": roleplay.scenario.id,
        "difficulty": roleplay.difficulty.value,
        "start_mood": roleplay.start_mood,
        "opening": opening,
        "turns": turns,
        "outcome": roleplay.status.value,
        "scorecard": scorecard.model_dump(mode="json"),
    }


def _mood_bar(mood: int) -> str:
    filled = round(mood / 100 * _MOOD_BAR_WIDTH)
    return "█" * filled + "░" * (_MOOD_BAR_WIDTH - filled)


def _print_customer(roleplay: Roleplay, text: str, mood: int) -> None:
    name = roleplay.scenario.persona.name
    print(f"{name} [mood {_mood_bar(mood)} {mood:>3}]: {text}")


def render_scorecard(scorecard: Scorecard) -> str:
    lines = [
        "",
        f"── Scorecard: {scorecard.scenario_title} ({scorecard.difficulty}) ──",
        f"{scorecard.outcome_text} Replies: {scorecard.replies}.",
        "Mood: " + " → ".join(str(mood) for mood in scorecard.mood_trajectory),
        "Steps (average of 0-2): "
        + ", ".join(f"{step} {average:.1f}" for step, average in scorecard.step_averages.items()),
    ]
    for label, highlight in (("Best", scorecard.best_reply), ("Worst", scorecard.worst_reply)):
        if highlight is not None:
            lines.append(
                f"{label} reply (#{highlight.reply_number}, {highlight.overall}/100): "
                f'"{highlight.quote}"'
            )
    for trigger in scorecard.triggers:
        times = "1 reply" if trigger.replies == 1 else f"{trigger.replies} replies"
        lines.append(f'Trigger {trigger.kind} in {times}: "{trigger.first_quote}"')
    for made in scorecard.offers_made:
        lines.append(f"Offer made (reply #{made.reply_number}): {made.offer}")
    lines += [f"Offer not made: {offer}" for offer in scorecard.offers_not_made]
    for promise in scorecard.promises_ruled_out:
        lines.append(
            f'Ruled-out promise (reply #{promise.reply_number}): "{promise.quote}" ({promise.what})'
        )
    lines.append(f"Practise next: {scorecard.practise_next}")
    return "\n".join(lines)
