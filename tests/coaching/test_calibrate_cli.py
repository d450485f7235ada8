"""`asap-coach calibrate` end to end on a labels file the test writes, and `eval --calibration`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.coaching.calibration import MIN_LABELS_PER_LEVEL, workspace_calibration
from bot.store.db import Database
from bot.store.migrations import upgrade_to_head
from bot.store.models import ScoringCalibration

# Replies written for this test, one per level of every step at once: a strict team that only
# calls a step done when it is spelled out, so its cut points differ from the shipped ones.
LEVELS = {
    0: "Thanks for the message, have a good day.",
    1: "Sorry to hear that. DM us and we'll take a look.",
    2: "I'm so sorry your parcel is late, I know how stressful that is. That's on us: I've sent "
    "a replacement by courier today and I'll call you at 5pm to check it arrived.",
}


def _labels(path, per_level: int) -> None:
    lines = []
    for level, reply in LEVELS.items():
        for copy in range(per_level):
            lines.append(
                {
                    "id": f"team-{level}-{copy}",
                    "agent_reply": f"{reply} (ticket {copy})",
                    "apologize": level,
                    "sympathize": level,
                    "responsibility": level,
                    "act": level,
                    "trigger": 0,
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_calibrate_writes_a_file_reports_held_out_agreement_and_eval_shows_both(tmp_path, capsys):
    labels, out = tmp_path / "labels.jsonl", tmp_path / "calibration.json"
    _labels(labels, per_level=20)
    assert main(["calibrate", str(labels), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "held-out" in said and "shipped" in said and "calibrated" in said
    data = json.loads(out.read_text())
    assert set(data["thresholds"]) == {"apologize", "sympathize", "responsibility", "act"}
    assert data["provenance"]["labels"] < 60  # a share was held out

    assert main(["eval", str(labels), "--engine", "offline", "--calibration", str(out)]) == 0
    said = capsys.readouterr().out
    assert "== shipped ==" in said and "== calibrated ==" in said


def test_calibrate_refuses_too_few_labels_and_says_how_many_are_needed(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    _labels(labels, per_level=3)
    with pytest.raises(SystemExit):
        main(["calibrate", str(labels), "--out", str(tmp_path / "c.json")])
    said = capsys.readouterr().err
    assert f"at least {MIN_LABELS_PER_LEVEL}" in said and "You have: apologize" in said
    assert not (tmp_path / "c.json").exists()


def test_calibrate_stores_a_workspace_calibration(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    labels = tmp_path / "labels.jsonl"
    _labels(labels, per_level=20)
    assert main(["calibrate", str(labels), "--team", "T123"]) == 0
    db = Database(url)
    calibration = workspace_calibration(db, "T123")
    assert calibration is not None and "act" in calibration.thresholds
    assert workspace_calibration(db, "T999") is None
    with db.session() as session:
        assert [row.team_id for row in session.scalars(select(ScoringCalibration))] == ["T123"]


def test_all_weights_fit_on_several_files_with_the_extra_files_weighted(tmp_path, capsys):
    first, second, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "weights.json"
    _labels(first, per_level=6)
    _labels(second, per_level=4)
    argv = ["calibrate", str(first), "--all-weights", "--also", str(second)]
    assert main([*argv, "--also-weight", "2", "--out", str(out)]) == 0
    provenance = json.loads(out.read_text())["provenance"]
    assert set(provenance["data_sha256"]) == {"a.jsonl", "b.jsonl"}
    assert "--also b.jsonl --also-weight 2" in provenance["command"]
    assert provenance["labels"] == 30


def test_cross_validation_prints_out_of_fold_agreement_per_file_and_writes_nothing(
    tmp_path, capsys
):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _labels(first, per_level=6)
    _labels(second, per_level=4)
    argv = ["calibrate", str(first), "--all-weights", "--also", str(second)]
    assert main([*argv, "--cross-validate", "3"]) == 0
    said = capsys.readouterr().out
    assert "Out-of-fold agreement of 3 refits" in said
    assert "a.jsonl" in said and "b.jsonl" in said and "responsibility" in said
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]


@pytest.mark.parametrize(
    "extra", [["--also", "x.jsonl"], ["--cross-validate", "3"]], ids=["also", "cross-validate"]
)
def test_refit_options_need_all_weights(tmp_path, capsys, extra):
    labels = tmp_path / "labels.jsonl"
    _labels(labels, per_level=3)
    with pytest.raises(SystemExit):
        main(["calibrate", str(labels), "--out", str(tmp_path / "c.json"), *extra])
    assert "--all-weights" in capsys.readouterr().err


def test_calibrate_says_where_the_result_must_go(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    _labels(labels, per_level=3)
    with pytest.raises(SystemExit):
        main(["calibrate", str(labels)])
    assert "--out FILE or --team" in capsys.readouterr().err
