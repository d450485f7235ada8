"""The rubric data in prompts/critique is complete, so a team can extend it safely."""

from __future__ import annotations

from bot.coaching.critique import STEPS, TriggerKind
from bot.coaching.rewrite import load_rewrite_rules
from bot.coaching.rubric import critique_data, load_rubric


def test_every_step_has_cues_for_done_and_partial_and_tips_for_falling_short():
    rubric = load_rubric()
    for name in STEPS:
        step = rubric.steps[name]
        levels = {cue.level for cue in step.cues}
        assert {1, 2} <= levels, name
        assert step.tip(0) and step.tip(1) and step.tip(2) == "", name
        assert set(step.summary) == {"done", "partial", "missing"}, name


def test_every_trigger_kind_has_a_rule_with_why_and_better():
    rules = {rule.kind: rule for rule in load_rubric().triggers}
    assert set(rules) == set(TriggerKind)
    for rule in rules.values():
        assert rule.why and rule.better
        assert rule.rewrite in {"keep", "replace_clause", "remove_phrase", "soften_case"}


def test_rewrite_sentences_mark_unknowns_as_placeholders():
    rubric = load_rubric()
    assert "[when?]" in rubric.steps["act"].rewrite_add
    for rule in rubric.triggers:  # {team}: the team the draft names, else a placeholder
        assert rule.adds is None or "[" in rule.adds or "{team}" in rule.adds
    assert "{details}" in rubric.kept_facts and rubric.kept_facts.startswith("[")
    rewrite = load_rewrite_rules()
    assert rewrite.team_unknown.startswith("[") and rewrite.placeholder_limit == 2
    assert all(
        "[" not in form for form in (rewrite.add["sympathy_plain"], rewrite.team_unknown_plain)
    )


def test_the_llm_system_prompt_declares_untrusted_data():
    prompt = critique_data("llm_system.md")
    assert "DATA TO ASSESS" in prompt and "verbatim" in prompt
