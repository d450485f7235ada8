"""`asap-coach practice` in the terminal: list, script with JSON, interactive, errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.coaching.practice.scenarios import Family, load_persona_lines, load_scenarios

from .conftest import GOOD_REPLIES, TRIGGER_REPLIES

SCENARIO = "hotel-anniversary-room-not-honoured"


@pytest.fixture(autouse=True)
def offline_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OpenAI key, no team folder, and no .env from the developer's working directory."""
    for name in ("OPENAI_API_KEY", "SCENARIOS_DIR", "PRACTICE_TURN_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def script(tmp_path: Path, replies: list[str]) -> str:
    path = tmp_path / "replies.txt"
    path.write_text("\n\n".join(replies) + "\n", encoding="utf-8")
    return str(path)


def run_json(capsys, *argv: str) -> dict:
    assert main(["practice", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_shows_every_scenario_with_family_and_difficulties(capsys):
    assert main(["practice", "--list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 18
    row = next(line for line in lines if line.startswith(SCENARIO))
    assert "broken_promise" in row and "mild/upset/furious" in row


def test_list_json_is_machine_readable(capsys):
    assert main(["practice", "--list", "--json"]) == 0

    listed = json.loads(capsys.readouterr().out)
    assert {item["family"] for item in listed} == {family.value for family in Family}
    hotel = next(item for item in listed if item["id"] == SCENARIO)
    assert hotel["difficulties"] == {"mild": 40, "upset": 65, "furious": 90}
    assert hotel["customer_at_fault"] is False


def test_a_script_of_good_replies_satisfies_a_furious_customer(capsys, tmp_path):
    result = run_json(
        capsys,
        SCENARIO,
        "--difficulty",
        "furious",
        "--script",
        script(tmp_path, GOOD_REPLIES),
        "--json",
    )

    assert result["outcome"] == "satisfied"
    assert result["start_mood"] == 90
    assert [turn["agent"] for turn in result["turns"]] == GOOD_REPLIES[: len(result["turns"])]
    moods = [turn["mood"] for turn in result["turns"]]
    assert moods == sorted(moods, reverse=True) and moods[-1] < 20
    assert all(turn["customer"] for turn in result["turns"])
    assert result["scorecard"]["outcome"] == "satisfied"
    assert result["scorecard"]["mood_trajectory"] == [90, *moods]


def test_a_script_of_triggers_makes_the_customer_give_up(capsys, tmp_path):
    replies = script(tmp_path, TRIGGER_REPLIES * 2)

    result = run_json(capsys, SCENARIO, "--difficulty", "furious", "--script", replies, "--json")

    assert result["outcome"] == "gave_up"
    shared = load_persona_lines().lines.gave_up
    assert result["turns"][-1]["customer"] in load_scenarios().get(SCENARIO).lines.gave_up + shared
    assert result["scorecard"]["triggers"]


def test_a_script_that_runs_out_first_ends_the_session(capsys, tmp_path):
    result = run_json(capsys, SCENARIO, "--script", script(tmp_path, ["Hello."]), "--json")

    assert result["outcome"] == "ended"
    assert len(result["turns"]) == 1
    assert result["scorecard"]["outcome_text"] == "You ended the session."


def test_the_same_script_gives_the_same_session(capsys, tmp_path):
    replies = script(tmp_path, ["We'll look into it.", "Hello?"])

    first = run_json(capsys, SCENARIO, "--script", replies, "--json")
    again = run_json(capsys, SCENARIO, "--script", replies, "--json")

    assert first == again


def test_a_script_without_json_prints_the_conversation_and_scorecard(capsys, tmp_path):
    assert main(["practice", SCENARIO, "--script", script(tmp_path, ["Calm down."])]) == 0

    out = capsys.readouterr().out
    assert "you> Calm down." in out
    assert "Richard [mood" in out
    assert "Scorecard" in out and "Practise next:" in out


def test_an_unknown_scenario_lists_close_matches_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["practice", "hotel-anniversary", "--script", "x.txt", "--json"])

    assert exit_.value.code == 2
    assert "hotel-anniversary-room-not-honoured" in capsys.readouterr().err


def test_interactive_practice_reads_replies_until_end(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("I'm sorry about that.\n/end\n"))

    assert main(["practice", SCENARIO, "--difficulty", "mild"]) == 0

    out = capsys.readouterr().out
    assert out.count("Richard [mood") == 2
    assert "You ended the session." in out


def test_list_reports_a_broken_team_scenario_and_still_lists_the_rest(
    capsys, monkeypatch, tmp_path
):
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "ours.toml").write_text('title = "x"\nfamily = \n', encoding="utf-8")
    monkeypatch.setenv("SCENARIOS_DIR", str(tmp_path / "team"))

    assert main(["practice", "--list"]) == 0

    captured = capsys.readouterr()
    assert f"skipped {tmp_path / 'team' / 'ours.toml'}:2:" in captured.err
    assert SCENARIO in captured.out


def test_the_installed_console_command_runs_practice():
    command = Path(sys.executable).with_name("asap-coach")

    listed = subprocess.run(
        [str(command), "practice", "--list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert len(json.loads(listed.stdout)) >= 18


def test_the_json_says_which_of_the_cards_offers_each_reply_made(capsys, tmp_path):
    replies = [
        "I'm so sorry. I'll move you to the partial sea-view room tonight and the suite tomorrow.",
        "Your whole stay is free, of course.",
    ]

    result = run_json(capsys, SCENARIO, "--script", script(tmp_path, replies), "--json")

    first, second = result["turns"]
    assert first["offers_made"] == [
        "Move them to the partial sea-view room tonight and the sea-view suite tomorrow"
    ]
    assert first["promises_ruled_out"] == [] and second["offers_made"] == []
    assert second["promises_ruled_out"][0].startswith("The whole stay free")
    card = result["scorecard"]
    assert [made["reply_number"] for made in card["offers_made"]] == [1]
    assert len(card["offers_not_made"]) == 2
    assert card["promises_ruled_out"][0]["reply_number"] == 2
