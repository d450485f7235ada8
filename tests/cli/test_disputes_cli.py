"""`asap-coach disputes --team T --export FILE`: the agreed disputes become the labels file that
`asap-coach calibrate` reads, which fits with enough of them and refuses clearly with too few."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.coaching.calibration import MIN_LABELS_PER_LEVEL
from bot.coaching.disputes import Levels, agree, disagree, dispute_overview
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.reviews import ReviewedMessage, record_dispute, request_critique, review_state
from bot.store.db import Database
from bot.store.migrations import upgrade_to_head
from bot.store.models import Workspace

TEAM = "T1"
# Replies written for this test, one per level of every step at once, as a strict lead labels
# them (the shipped cut points would score some of them otherwise).
REPLIES = {
    0: "Thanks for the message, have a good day.",
    1: "Sorry to hear that. DM us and we'll take a look.",
    2: "I'm so sorry your parcel is late, I know how stressful that is. That's on us: I've sent "
    "a replacement by courier today and I'll call you at 5pm to check it arrived.",
}


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    database = Database(url)
    yield database
    database.dispose()


def resolved_disputes(
    db: Database, per_level: int, *, store_text: bool = True, team: str = TEAM
) -> None:
    """`per_level` agreed disputes for each level (every step at that level), and one
    disagreed dispute, which is no label."""
    with db.session() as session:
        session.add(Workspace(team_id=team, store_reply_text=store_text))
    engine = OfflineCritiqueEngine()
    number = 0
    for level, reply in REPLIES.items():
        for copy in range(per_level + (level == 0)):
            number += 1
            message = ReviewedMessage(team, "C1", f"1700000000.{number:06d}", "U1", reply)
            state = review_state(db, team, "C1", message.message_ts, "ULEAD")
            review = request_critique(db, engine, message, "ULEAD", "test", state)
            record_dispute(db, team, review.critique_id, "U1", "not fair")
            with db.session() as session:
                [dispute] = dispute_overview(session, team).open
            if copy == per_level:
                disagree(db, team, dispute.id, "ULEAD", "It stands.")
            else:
                agree(db, team, dispute.id, "ULEAD", Levels(level, level, level, level, 0))


def test_exported_labels_calibrate(db: Database, tmp_path: Path, capsys) -> None:
    resolved_disputes(db, per_level=16)
    labels, out = tmp_path / "labels.jsonl", tmp_path / "calibration.json"

    assert main(["disputes", "--team", TEAM, "--export", str(labels)]) == 0

    said = capsys.readouterr().out
    assert "0 disputes waiting, 48 agreed (48 replies with their text), 1 disagreed" in said
    assert f"Wrote 48 labelled replies to {labels}" in said
    lines = [json.loads(line) for line in labels.read_text().splitlines()]
    assert len(lines) == 48
    assert set(lines[0]) == {
        "id",
        "agent_reply",
        "apologize",
        "sympathize",
        "responsibility",
        "act",
        "trigger",
    }
    assert main(["calibrate", str(labels), "--out", str(out)]) == 0
    assert "Calibrated on" in capsys.readouterr().out
    assert json.loads(out.read_text())["thresholds"]


def test_too_few_exported_labels_are_refused_by_calibrate(
    db: Database, tmp_path: Path, capsys
) -> None:
    resolved_disputes(db, per_level=2)
    labels = tmp_path / "labels.jsonl"
    assert main(["disputes", "--team", TEAM, "--export", str(labels)]) == 0
    capsys.readouterr()

    with pytest.raises(SystemExit):
        main(["calibrate", str(labels), "--out", str(tmp_path / "c.json")])

    said = capsys.readouterr().err
    assert f"too few labels to calibrate: a step needs at least {MIN_LABELS_PER_LEVEL}" in said
    assert not (tmp_path / "c.json").exists()


def test_without_stored_text_nothing_can_be_exported_and_it_says_so(
    db: Database, tmp_path: Path, capsys
) -> None:
    resolved_disputes(db, per_level=1, store_text=False)
    labels = tmp_path / "labels.jsonl"

    with pytest.raises(SystemExit):
        main(["disputes", "--team", TEAM, "--export", str(labels)])

    said = capsys.readouterr()
    assert "3 agreed (0 replies with their text)" in said.out
    assert "no label to export" in said.err and "3 agreed replies were not stored" in said.err
    assert not labels.exists()


def test_another_workspaces_disputes_are_not_exported(db: Database, tmp_path: Path, capsys):
    resolved_disputes(db, per_level=1, team="T2")
    with pytest.raises(SystemExit):
        main(["disputes", "--team", TEAM, "--export", str(tmp_path / "labels.jsonl")])
    said = capsys.readouterr()
    assert "0 agreed" in said.out and "Agree with a dispute on the Home tab" in said.err
