"""`asap-coach critique` and `asap-coach eval`, run through the real entry point."""

from __future__ import annotations

import io
import json
import sys

import pytest

from bot.cli import main

REPLY = "So sorry! As per our policy we cannot refund. DM us."


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_critique_prints_a_readable_critique(capsys):
    assert main(["critique", REPLY, "--customer", "You charged me twice!"]) == 0
    out = capsys.readouterr().out
    assert "ASAP critique:" in out and "[offline]" in out
    assert "Apologize: 1/2" in out  # "sorry" followed by a policy wall is half an apology
    assert '"as per our policy"' in out.lower() or "policy wall" in out
    assert "Suggested rewrite:" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_critique_colours_only_a_terminal_without_no_color(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    main(["critique", REPLY, "--engine", "offline"])
    assert "\033[" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    main(["critique", REPLY, "--engine", "offline"])
    assert "\033[" not in capsys.readouterr().out


def test_critique_json_is_the_full_model(capsys):
    assert main(["critique", REPLY, "--json", "--engine", "offline"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["engine"] == "offline"
    assert result["steps"]["apologize"]["score"] == 1
    assert result["steps"]["apologize"]["evidence"] == ["So sorry!"]
    assert result["steps"]["apologize"]["tip"]
    assert {trigger["kind"] for trigger in result["triggers"]} >= {"policy_wall", "refusal"}
    assert 0 <= result["overall"] <= 100 and result["rewrite"]


def test_llm_engine_without_a_key_is_a_clear_error(capsys):
    assert main(["critique", REPLY, "--engine", "llm"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_jsonl_gives_one_line_per_input_in_order_and_flags_bad_lines(capsys, monkeypatch):
    lines = [
        json.dumps({"agent_reply": "So sorry, I've refunded you today.", "id": "x"}),
        "{not json",
        json.dumps({"agent_reply": "   "}),
        json.dumps(["a list"]),
        json.dumps({"agent_reply": "DM us.", "customer_message": ["Where is it?", "Hello??"]}),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["critique", "--jsonl", "-", "--engine", "offline"]) == 1
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [result["line"] for result in results] == [1, 2, 3, 4, 5]
    assert [("error" in result) for result in results] == [False, True, True, True, False]
    assert results[0]["steps"]["act"]["score"] == 2
    assert results[0]["steps"]["act"]["evidence"] == ["So sorry, I've refunded you today."]
    assert results[4]["steps"]["act"]["score"] == 1
    for result in (results[0], results[4]):
        assert {"steps", "triggers", "overall"} <= result.keys()


def test_jsonl_from_a_file_with_only_good_lines_exits_zero(tmp_path, capsys):
    path = tmp_path / "replies.jsonl"
    path.write_text('{"agent_reply": "Sorry!"}\n\n{"agent_reply": "We hear you."}\n')
    assert main(["critique", "--jsonl", str(path), "--engine", "offline"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


GOLD = [
    {
        "agent_reply": "I'm so sorry. I've refunded the fee; it shows within 3 days.",
        "apologize": 2, "sympathize": 0, "responsibility": 2, "act": 2, "trigger": 0,
    },
    {
        "agent_reply": "Calm down. DM us.",
        "apologize": 0, "sympathize": 0, "responsibility": 1, "act": 1, "trigger": 1,
    },
]  # fmt: skip


def test_eval_reports_agreement_per_step(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in GOLD))
    assert main(["eval", str(path), "--engine", "offline"]) == 0
    out = capsys.readouterr().out
    for heading in ("QWK", "F1 done", "F1 present", "trigger: F1", "Confusion", "Slowest"):
        assert heading in out


def test_eval_json_and_lines_without_gold_labels(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    rows = [*GOLD, {"agent_reply": "Sorry!", "apologize": 5}]
    path.write_text("".join(json.dumps(item) + "\n" for item in rows))
    assert main(["eval", str(path), "--json", "--engine", "offline"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["items"] == 2 and report["errors"] == 1
    assert report["steps"]["act"]["qwk"] == pytest.approx(1.0)
    assert report["trigger"]["f1"] == pytest.approx(1.0)
    assert "line 3" in captured.err


def test_critique_of_a_reply_in_another_language_says_so_instead_of_scoring(capsys):
    reply = "Nous sommes vraiment désolés, votre colis arrive demain matin."
    assert main(["critique", reply, "--engine", "offline"]) == 0
    out = capsys.readouterr().out
    assert "not scored" in out and "set an LLM engine" in out and "/100" not in out
    assert main(["critique", reply, "--engine", "offline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["not_scored"].startswith("The offline coach")
