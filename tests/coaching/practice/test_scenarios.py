"""Scenarios as data: the built-ins cover the method, and a bad file is reported, never fatal."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.coaching.critique import TriggerKind
from bot.coaching.practice.mood import Difficulty, MoodBand, Reaction
from bot.coaching.practice.scenarios import Family, load_persona_lines, load_scenarios
from bot.prompt_files import read_text, read_toml

BUILT_IN = "retail-birthday-gift-late"


def _team_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _built_in_text(scenario_id: str = BUILT_IN) -> str:
    return read_text("scenarios", f"{scenario_id}.toml")


def test_the_built_ins_cover_every_family_in_several_variants_without_problems(library):
    families = Counter(scenario.family for scenario in library.scenarios.values())

    assert library.problems == ()
    assert len(library.scenarios) >= 18
    assert set(families) == set(Family)
    assert min(families.values()) >= 2
    assert len({scenario.industry for scenario in library.scenarios.values()}) >= 12


def test_every_built_in_starts_angrier_the_harder_the_difficulty(library):
    for scenario in library.scenarios.values():
        moods = [scenario.start_mood(level) for level in Difficulty]
        assert moods == sorted(moods) and len(set(moods)) == 3, scenario.id


def test_at_fault_scenarios_are_the_customer_at_fault_family(library):
    for scenario in library.scenarios.values():
        at_fault_family = scenario.family is Family.customer_at_fault
        assert scenario.facts.customer_at_fault == at_fault_family, scenario.id


def test_shared_lines_outlast_the_default_turn_limit():
    shared = load_persona_lines()
    for band in MoodBand:
        assert len(shared.lines.named(band.value)) >= 12, band
    for reaction in Reaction:
        assert len(shared.reactions.for_reaction(reaction)) >= 10, reaction


def test_the_scorecard_has_advice_for_every_trigger_kind():
    advice = read_toml("practice", "scorecard.toml")["triggers"]
    assert set(advice) == {kind.value for kind in TriggerKind}


def test_a_file_with_broken_toml_is_reported_with_file_and_line_and_skipped(tmp_path):
    broken = _built_in_text().replace('title = "', 'title = "unclosed\n', 1)
    _team_file(tmp_path / "team", "broken-scenario.toml", broken)

    library = load_scenarios(tmp_path / "team")

    (problem,) = library.problems
    assert str(problem).startswith(f"{tmp_path / 'team'}/broken-scenario.toml:2: ")
    assert problem.line == 2
    assert "broken-scenario" not in library.scenarios
    assert BUILT_IN in library.scenarios


@pytest.mark.parametrize(
    ("wrong", "right", "field"),
    [
        ('family = "missed_deadline"', 'family = "grumpy"', "family"),
        ('name = "Marisol"\n', "", "persona.name"),
        ("start_mood = 92", "start_mood = 140", "mood.difficulty"),
        ("[openings]\nmild", "[openings]\nmellow", "openings"),
        ('{quote}\\"? I paid', '{agent}\\"? I paid', "reactions"),
        ("{quote}", "{agent}", "offers.may_not"),  # a challenge line
        ("customer_at_fault = false", 'customer_at_fault = "maybe"', "facts"),
    ],
)
def test_a_schema_error_names_the_file_and_field_and_is_skipped(tmp_path, wrong, right, field):
    _team_file(tmp_path, "bad-one.toml", _built_in_text().replace(wrong, right, 1))

    library = load_scenarios(tmp_path)

    (problem,) = library.problems
    assert str(problem).startswith(f"{tmp_path}/bad-one.toml: field {field}")
    assert "bad-one" not in library.scenarios
    assert len(library.scenarios) >= 18


def test_a_mood_that_is_not_a_table_is_a_schema_error(tmp_path):
    text = _built_in_text()
    _team_file(tmp_path, "flat-mood.toml", 'mood = "calm"\n' + text[: text.index("[mood.")])

    (problem,) = load_scenarios(tmp_path).problems

    assert str(problem).startswith(f"{tmp_path}/flat-mood.toml: field mood")


def test_a_team_scenario_is_added_and_one_with_a_built_in_name_replaces_it(tmp_path):
    own = _built_in_text().replace('industry = "online retail"', 'industry = "bike shop"')
    _team_file(tmp_path, "our-bike-helmet.toml", own)
    _team_file(tmp_path, f"{BUILT_IN}.toml", own)

    library = load_scenarios(tmp_path)

    assert library.problems == ()
    assert library.scenarios["our-bike-helmet"].industry == "bike shop"
    assert library.scenarios[BUILT_IN].industry == "bike shop"


def test_bad_file_names_and_a_missing_folder_are_reported(tmp_path):
    _team_file(tmp_path, "Bad Name.toml", _built_in_text())

    named = load_scenarios(tmp_path)
    missing = load_scenarios(tmp_path / "nowhere")

    assert "lowercase" in str(named.problems[0])
    assert "not a folder" in str(missing.problems[0])


def test_cornered_lines_need_an_at_fault_customer(tmp_path):
    edited = _built_in_text().replace("[reactions]\n", '[reactions]\ncornered = ["No."]\n')
    _team_file(tmp_path, "never-cornered.toml", edited)

    (problem,) = load_scenarios(tmp_path).problems

    assert "customer_at_fault" in problem.message


def test_close_matches_suggest_the_scenario_meant(library):
    assert library.close_matches("phone-in-water")[0] == "phone-dropped-in-water"
    assert library.close_matches("zzzz") == []


@pytest.mark.parametrize("broken", ["file", "folder"])
def test_asap_coach_run_logs_skipped_scenarios_at_start_up(
    monkeypatch, capsys, tmp_path, fake_slack, broken
):
    from bot.cli import main

    scenarios = tmp_path / "scenarios"
    if broken == "file":
        scenarios.mkdir()
        (scenarios / "broken.toml").write_text('id = "broken"\ntitle = \n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no developer .env, and a throw-away SQLite file
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCENARIOS_DIR", str(scenarios))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong-token")  # stops right after start-up
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)

    with pytest.raises(SystemExit):
        main(["run"])

    err = capsys.readouterr().err
    [warning] = [line for line in err.splitlines() if "WARNING" in line]
    where = f"{scenarios / 'broken.toml'}:2: " if broken == "file" else f"{scenarios}: "
    assert where in warning
