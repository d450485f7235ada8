"""Turns step verdicts, triggers and the way-out judgement into a whole `Critique`: the overall
score, the one-line summary and a suggested rewrite.

The rewrite keeps the agent's own sentences (their facts), replaces the clauses that carry
inflaming wording with better wording, and adds what the method asks for. Anything only the agent
can know (what will happen, when, what else they can offer) is a [placeholder], never an invented
refund or promise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.coaching.critique import (
    Critique,
    EngineName,
    Steps,
    Trigger,
    WayOut,
)
from bot.coaching.rubric import Rubric, TriggerRule
from bot.coaching.text import ReplyText, Span

_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+)+")
# Where a sentence divides into clauses: a comma, semicolon, colon, dash or emoji, or before "but".
_CLAUSE_BREAK = re.compile(
    r"[,;:]\s+|\s+[\u2013\u2014-]\s+|\s+(?=(?:but|however|although|though)\b)"
    r"|\s*[\u2600-\u27bf\U0001f300-\U0001faff]+\ufe0f?\s+"
)
# Words that only joined a clause to the one the rewrite dropped before it.
_LEADING_JOINER = re.compile(
    r"^(?:(?:and|but|so|or|because|as|since|however|though|although|also|then)\b[\s,]*)+", re.I
)
_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[.,;:!?])")
_EDGE_MARKS = re.compile(r"^[\s,;:\u2013\u2014-]+|[\s,;:\u2013\u2014-]+$")
_LOWERCASE_I = re.compile(r"\bi\b(?!\.)")
_WORD = re.compile(r"\w+")
_GREETING_OR_APOLOGY = re.compile(r"\W*(?i:hi|hello|hey|dear|good \w+|sorry|so sorry|apolog)")
# Facts a dropped clause may hold, which the rewrite must not lose (links are found apart).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WHEN = r"(?i:\b(?:by|on|until|before|after|from|within|in|for|at|this|next) )?"
_FACT = re.compile(
    r"\b(?i:order|ticket|case|booking|reference|ref|invoice|account|parcel|package|flight"
    r"|tracking|item)(?i: (?:number|no\.?|id|code))?:? ?#? ?(?=[\w-]*\d)[\w-]+"  # labelled ids
    r"|[$£€] ?\d(?:[\d,.]*\d)?"  # money
    rf"|{_WHEN}(?i:\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today"
    r"|tomorrow|tonight|end of (?:the )?(?:day|week))\b)"
    rf"|{_WHEN}(?<![\w#/:.-])#?[\w/:.-]*\d(?:[\w/:.,-]*\w)?(?: \d+)*"  # numbers, times, codes
    r"(?i: ?(?:am|pm|%|(?:working |business )?days?|hours?|minutes?|weeks?|months?|years?"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b(?: \d{4}\b)?)?"
    r"|(?<=\w )[A-Z][a-z]+(?: (?:of |the |de |van )*[A-Z][a-z]+)*\b"  # names, not first words
)


@dataclass(frozen=True)
class FoundTrigger:
    """One occurrence of an inflaming wording in the reply, and the rule that found it."""

    rule: TriggerRule
    span: Span
    trigger: Trigger


def unique_triggers(found: list[FoundTrigger]) -> list[Trigger]:
    """The critique's triggers: each wording of each kind once, in the order found."""
    return list({(f.trigger.kind, f.trigger.quote): f.trigger for f in found}.values())


def overall_score(rubric: Rubric, steps: Steps, triggers: list[Trigger], way_out: WayOut) -> int:
    weights = rubric.overall
    points_per_level = {0: 0.0, 1: weights.points_per_partial_step, 2: weights.points_per_done_step}
    points = sum(points_per_level[verdict.score] for _, verdict in steps.items())
    kinds = {trigger.kind for trigger in triggers}
    points -= min(len(kinds) * weights.trigger_penalty, weights.max_trigger_penalty)
    if way_out.customer_at_fault and not way_out.offered:
        points -= weights.no_way_out_penalty
    return max(0, min(100, round(points)))


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def one_line_summary(rubric: Rubric, steps: Steps, triggers: list[Trigger], way_out: WayOut) -> str:
    levels = {0: "missing", 1: "partial", 2: "done"}
    said = [(v.score, rubric.steps[name].summary[levels[v.score]]) for name, v in steps.items()]
    good = [phrase for score, phrase in said if score == 2]
    weak = [phrase for score, phrase in said if score < 2]
    line = f"{_join(good)}, but {_join(weak)}" if good and weak else _join(good or weak)
    if triggers:
        kinds = sorted({trigger.kind.value.replace("_", " ") for trigger in triggers})
        line += f"; inflaming wording: {', '.join(kinds)}"
    if way_out.customer_at_fault and not way_out.offered:
        line += "; leaves an at-fault customer no way out"
    return line[0].upper() + line[1:] + "."


@dataclass
class _RewrittenSentence:
    text: str
    adds: list[str]  # the rules' better wordings, to put after it
    facts: list[str]  # facts of the clauses that were dropped


def _clauses(text: ReplyText, sentence: Span) -> list[tuple[str, Span]]:
    """The clauses of `sentence`, each with the separator before it ("" for the first)."""
    clauses, start, separator = [], sentence.start, ""
    for found in _CLAUSE_BREAK.finditer(text.folded, sentence.start, sentence.end):
        clauses.append((separator, Span(start, found.start())))
        start, separator = found.end(), found.group()
    clauses.append((separator, Span(start, sentence.end)))
    return clauses


def _facts(text: ReplyText, clause: Span) -> list[str]:
    """The facts in `clause`, in reply order: e-mail addresses, links, ids, times, names…"""
    found: list[tuple[int, str]] = []
    rest = list(text.original[clause.start : clause.end])

    def take(start: int, end: int) -> None:  # offsets in the clause
        found.append((start, "".join(rest[start:end])))
        rest[start:end] = " " * (end - start)

    for email in _EMAIL.finditer("".join(rest)):
        take(*email.span())
    for link in text.links(clause):
        if rest[link.start - clause.start].strip():  # not inside an e-mail address
            take(link.start - clause.start, link.end - clause.start)
    for fact in _FACT.finditer("".join(rest)):
        take(*fact.span())
    return [fact for _, fact in sorted(found)]


def _overlaps(one: Span, other: Span) -> bool:
    return one.start < other.end and other.start < one.end


def _rewrite_sentence(
    text: ReplyText, sentence: Span, found: list[FoundTrigger]
) -> _RewrittenSentence:
    """The sentence with each trigger handled as its rule says (`triggers.toml`, `rewrite`)."""
    gone: set[int] = set()  # offsets of characters the rewrite cuts
    lowered: set[int] = set()
    replaced: list[Span] = []
    adds: list[str] = []
    for occurrence in found:
        span, rule = occurrence.span, occurrence.rule
        if rule.rewrite == "replace_clause":
            replaced.append(span)
        elif rule.rewrite == "remove_phrase":
            gone.update(range(span.start, span.end))
        elif rule.rewrite == "soften_case" and not text.original[span.start : span.end].strip("!"):
            gone.update(range(span.start + 1, span.end))  # "!!!" -> "!"
        elif rule.rewrite == "soften_case":
            lowered.update(range(span.start, span.end))
        if rule.adds:
            adds.append(rule.adds)
    clauses: list[tuple[str, Span, str, bool]] = []  # separator, clause, its text, dropped?
    for separator, clause in _clauses(text, sentence):
        clause = text.trimmed(clause)
        piece = text.original[clause.start : clause.end]
        touched = range(clause.start, clause.end)
        cut = not gone.isdisjoint(touched)
        if cut or not lowered.isdisjoint(touched):
            piece = "".join(
                char.lower() if at in lowered else char
                for at, char in enumerate(piece, clause.start)
                if at not in gone
            )
        dropped = any(_overlaps(clause, span) for span in replaced) or (
            cut and len(_WORD.findall(piece)) < 3
        )
        clauses.append((separator, clause, piece, dropped))
    if any(dropped for *_, dropped in clauses):  # what is left of it must still say something
        clauses = [
            (separator, clause, piece, dropped or _is_fragment(piece))
            for separator, clause, piece, dropped in clauses
        ]
    pieces: list[str] = []
    after_dropped = False
    for separator, _clause, piece, dropped in clauses:
        if not dropped:
            if after_dropped:
                piece = _LEADING_JOINER.sub("", _EDGE_MARKS.sub("", piece))
            pieces.append((separator if pieces else "") + piece)
        after_dropped = dropped
    sentence_text = " ".join(_SPACE_BEFORE_MARK.sub("", "".join(pieces)).split())
    if lowered:
        sentence_text = _LOWERCASE_I.sub("I", sentence_text)
    if sentence_text and (replaced or gone) and not sentence_text.endswith((".", "!", "?")):
        sentence_text = _EDGE_MARKS.sub("", sentence_text) + "."
    facts = [fact for _, clause, _, dropped in clauses if dropped for fact in _facts(text, clause)]
    return _RewrittenSentence(sentence_text[:1].upper() + sentence_text[1:], adds, facts)


def _is_fragment(piece: str) -> bool:
    """Too little to stand alone ("Unfortunately", "Yes"), unless a greeting or an apology."""
    return len(_WORD.findall(piece)) < 3 and not _GREETING_OR_APOLOGY.match(piece)


def suggest_rewrite(
    rubric: Rubric,
    text: ReplyText,
    steps: Steps,
    found: list[FoundTrigger],
    way_out: WayOut,
) -> str:
    """The reply with its inflaming wording replaced and what was missing added.

    Sentences without a trigger stay word for word; a clause carrying one goes (or loses the
    wording), replaced once by the rule's better wording; facts of a dropped clause are listed
    in a note so the agent keeps them. Nothing is added that the agent did not promise.
    """
    added: list[str] = []
    if way_out.customer_at_fault and not way_out.offered:
        added.append(rubric.way_out.rewrite)
    for name in ("apologize", "sympathize"):
        if getattr(steps, name).score < 2:
            added.append(rubric.steps[name].rewrite_add)
    body: list[str] = []
    dropped_facts: list[str] = []
    by_sentence: dict[int, list[FoundTrigger]] = {}
    for occurrence in found:
        by_sentence.setdefault(text.sentence_index(occurrence.span.start), []).append(occurrence)
    for index, sentence in enumerate(text.sentences):
        here = by_sentence.get(index)
        if not here:
            body.append(text.quote(sentence))
            continue
        rewritten = _rewrite_sentence(text, sentence, here)
        body += [rewritten.text] if rewritten.text else []
        body += [add for add in dict.fromkeys(rewritten.adds) if add not in body]
        dropped_facts += rewritten.facts
    kept = " ".join(body)
    lost = [fact for fact in dict.fromkeys(dropped_facts) if fact not in kept]
    lost = [fact for fact in lost if not any(fact in other for other in lost if other != fact)]
    if lost:
        body.append(rubric.kept_facts.format(details="; ".join(lost)))
    closing = [
        rubric.steps[name].rewrite_add
        for name in ("responsibility", "act")
        if getattr(steps, name).score < 2
    ]
    handles = _LEADING_HANDLES.match(text.original)
    prefix = [handles.group().strip()] if handles else []
    return " ".join(prefix + added + body + closing)


def compose_critique(
    rubric: Rubric,
    text: ReplyText,
    steps: Steps,
    found: list[FoundTrigger],
    way_out: WayOut,
    *,
    engine: EngineName,
) -> Critique:
    triggers = unique_triggers(found)
    return Critique(
        steps=steps,
        triggers=triggers,
        way_out=way_out,
        overall=overall_score(rubric, steps, triggers, way_out),
        summary=one_line_summary(rubric, steps, triggers, way_out),
        rewrite=suggest_rewrite(rubric, text, steps, found, way_out),
        engine=engine,
    )
