"""The offline engine's suggested rewrite: the reply a team lead would send instead of the draft.

It keeps the draft's sentences and facts, in the draft's order, and leaves out what makes an upset
customer angrier: each clause holding a trigger (as its rule's `rewrite` action says), sentences
giving the grader orders, what is said twice (a sentence again, a row of emoji, pasted text
repeated) and the clauses of the `[[leave_out]]` rules. It adds only the steps the draft misses,
in words it already knows: the problem in the customer's own words when their message is known,
the next step and time the draft already gave. What only the agent can know is a [placeholder]
(at most `placeholder_limit`), never an invented promise. Wording: `prompts/critique/rewrite.toml`.
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bot.coaching.critique import Steps, StepVerdict, WayOut
from bot.coaching.rubric import RewriteAction, Rubric, critique_data
from bot.coaching.saying_back import ProblemRules, compiled, problem_in_their_words
from bot.coaching.text import ReplyText, Span

_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+)+")
_PICTOGRAPH = r"[\u2600-\u27bf\U0001f000-\U0001faff]\ufe0f?"
# Where a sentence divides into clauses: a comma, semicolon, colon, dash or emoji, or before "but".
_CLAUSE_BREAK = re.compile(
    r"[,;:]\s+|\s+[\u2013\u2014-]\s+|\s+(?=(?:but|however|although|though)\b)"
    rf"|\s*(?:{_PICTOGRAPH})+\s+"
)
_EMOJI_ROW = re.compile(rf"(?:{_PICTOGRAPH}\s*){{3,}}")
# Words that only joined a clause to the one the rewrite dropped before it.
_LEADING_JOINER = re.compile(
    r"^(?:(?:and|but|so|or|because|as|since|however|though|although|also|then)\b[\s,]*)+", re.I
)
_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[.,;:!?])")
_EDGE_MARKS = re.compile(r"^[\s,;:\u2013\u2014-]+|[\s,;:\u2013\u2014-]+$")
_LOWERCASE_I = re.compile(r"\bi\b(?!\.)")
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\S+")
_PUNCTUATION = string.punctuation + "\u2026"
_STRAIGHT_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_PLACEHOLDER = re.compile(r"\[[^\]\n]+\]")
# A clause that only leads into another: left alone, once the other went, it says nothing.
_SUBORDINATE = re.compile(
    r"\W*(?i:if|when|whenever|because|although|though|unless|once|while|as soon as)\b"
)
_GREETING_OR_APOLOGY = re.compile(r"\W*(?i:hi|hello|hey|dear|good \w+|sorry|so sorry|apolog)")
_GREETING = re.compile(
    r"^(?P<greeting>(?i:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,.!?]{0,25}"
    r"(?:[,.!]+|$))\s*(?P<rest>.*)$",
    re.S,
)
# An agent's sign-off ("^AF", "-KW", "*JoanO"), which stays last.
_SIGNATURE = re.compile(r"(?:^|\s+)(?P<signature>[\^*~\u2013\u2014-]\s?[A-Za-z]{1,12})$")
# Repeated words and pasted text: runs of one word said this often, or of longer pieces twice.
_REPEATS_OF_ONE_WORD, _LONGEST_REPEATED_PIECE = 3, 60
# Facts a dropped clause may hold, which the rewrite must not lose (links are found apart).
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FACT = re.compile(
    r"\b(?i:order|ticket|case|booking|reference|ref|invoice|account|parcel|package|flight"
    r"|tracking|item)(?i: (?:number|no\.?|id|code))?:? ?#? ?(?=[\w-]*\d)[\w-]+"  # labelled ids
    r"|[$£€] ?\d(?:[\d,.]*\d)?"  # money
    r"|\b(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today"
    r"|tomorrow|tonight|end of (?:the )?(?:day|week))\b"
    r"|(?<![\w#/:.-])#?[\w/:.-]*\d(?:[\w/:.,-]*\w)?(?: \d+)*"  # numbers, times, codes
    r"(?i: ?(?:am|pm|%|(?:working |business )?days?|hours?|minutes?|weeks?|months?|years?"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b(?: \d{4}\b)?)?"
    r"|(?<=\w )[A-Z][a-z]+(?: (?:of |the |de |van )*[A-Z][a-z]+)*\b"  # names, not first words
)
# The word that makes a date or time a deadline ("by Friday", "within 3 days"), kept with it
# (looked for only before a fact: trying it at every position would double the scan).
_WHEN_BEFORE = re.compile(r"(?i:\b(?:by|on|until|before|after|from|within|in|for|at|this|next) )$")
# How readily each added sentence keeps its placeholders when they are more than the limit:
# kept facts first, then the next step, its time, the customer's problem, a note on jargon.
_FACTS_NOTE, _STEP, _TIME, _PROBLEM, _NOTE = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class LeaveOut:
    """Clauses (or, `sentence`, whole sentences) left out although they are no trigger; `adds`
    goes in their place."""

    name: str
    pattern: re.Pattern[str]
    adds: str | None
    sentence: bool = False


@dataclass(frozen=True)
class RewriteRules:
    placeholder_limit: int
    leave_out: tuple[LeaveOut, ...]
    team: re.Pattern[str]
    team_unknown: str
    team_unknown_plain: str
    bare_apology: re.Pattern[str]
    company_step: re.Pattern[str]
    time: re.Pattern[str]
    commitment: re.Pattern[str]
    add: Mapping[str, Any]
    reframe: re.Pattern[str]
    reframe_says: str
    base_forms: Mapping[str, str]
    problem: ProblemRules


@cache
def load_rewrite_rules() -> RewriteRules:
    data = tomllib.loads(critique_data("rewrite.toml"))
    leave_out = tuple(
        LeaveOut(
            rule["name"], compiled(rule["patterns"]), rule.get("adds"), rule.get("sentence", False)
        )
        for rule in data["leave_out"]
    )
    return RewriteRules(
        placeholder_limit=data["placeholder_limit"],
        leave_out=leave_out,
        team=compiled(data["team"]),
        team_unknown=data["team_unknown"],
        team_unknown_plain=data["team_unknown_plain"],
        bare_apology=compiled(data["bare_apology"]),
        company_step=compiled(data["company_step"]),
        time=compiled(data["time"]),
        commitment=compiled(data["commitment"]),
        add=data["add"],
        reframe=compiled(data["reframe"]["pattern"]),
        reframe_says=data["reframe"]["says"],
        base_forms=data["reframe"]["base"],
        problem=ProblemRules.from_data(data["problem"]),
    )


# -- what the draft's sentences become -----------------------------------------------------------


@dataclass(frozen=True)
class Cut:
    """Wording the rewrite handles: as `action` says, with `adds` in its place."""

    span: Span
    action: RewriteAction
    adds: str | None = None


@dataclass
class _Sentence:
    text: str  # what is kept of the draft's sentence ("" when nothing)
    unchanged: bool
    adds: list[str] = field(default_factory=list)  # better wordings in place of dropped clauses
    notes: list[str] = field(default_factory=list)  # notes for kept wordings (jargon)
    reframed: list[str] = field(default_factory=list)  # a blaming clause turned into a way out
    facts: list[str] = field(default_factory=list)  # facts of the clauses that were dropped


def _clauses(text: ReplyText, sentence: Span) -> list[tuple[Span | None, Span]]:
    """The clauses of `sentence`, each with the separator before it (None for the first)."""
    clauses: list[tuple[Span | None, Span]] = []
    start, separator = sentence.start, None
    for found in _CLAUSE_BREAK.finditer(text.folded, sentence.start, sentence.end):
        clauses.append((separator, Span(start, found.start())))
        start, separator = found.end(), Span(*found.span())
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
    remaining = "".join(rest)
    for fact in _FACT.finditer(remaining):
        when = _WHEN_BEFORE.search(remaining, max(0, fact.start() - 8), fact.start())
        take(when.start() if when else fact.start(), fact.end())
    return [fact for _, fact in sorted(found)]


def _overlaps(one: Span, other: Span) -> bool:
    return one.start < other.end and other.start < one.end


def _is_fragment(piece: str) -> bool:
    """Too little to stand alone ("Unfortunately", "Yes"), unless a greeting or an apology."""
    return len(_WORD.findall(piece)) < 3 and not _GREETING_OR_APOLOGY.match(piece)


def _kept_chars(text: ReplyText, span: Span, gone: set[int], lowered: set[int]) -> str:
    if not gone and not lowered:
        return text.original[span.start : span.end]
    return "".join(
        char.lower() if at in lowered else char
        for at, char in enumerate(text.original[span.start : span.end], span.start)
        if at not in gone
    )


def _rewrite_sentence(
    rules: RewriteRules, text: ReplyText, sentence: Span, cuts: list[Cut], gone: set[int]
) -> _Sentence:
    """The sentence with each cut handled as its action says; `gone`: repeated characters."""
    gone = {at for at in range(sentence.start, sentence.end) if at in gone} if gone else set()
    lowered: set[int] = set()
    replaced: list[Span] = []
    adds: list[str] = []
    notes: list[str] = []
    for cut in cuts:
        span = cut.span
        if cut.action == "replace_clause":
            replaced.append(span)
        elif cut.action == "remove_phrase":
            gone.update(range(span.start, span.end))
        elif cut.action == "soften_case" and not text.original[span.start : span.end].strip("!"):
            gone.update(range(span.start + 1, span.end))  # "!!!" -> "!"
        elif cut.action == "soften_case":
            lowered.update(range(span.start, span.end))
        if cut.adds:
            (notes if cut.action == "keep" else adds).append(cut.adds)
    clauses: list[tuple[Span | None, Span, str, bool]] = []  # separator, clause, text, dropped?
    for separator, clause in _clauses(text, sentence):
        clause = text.trimmed(clause)
        touched = range(clause.start, clause.end)
        cut = not gone.isdisjoint(touched)
        piece = _kept_chars(text, clause, gone, lowered)
        dropped = any(_overlaps(clause, span) for span in replaced) or (
            cut and len(_WORD.findall(piece)) < 3
        )
        clauses.append((separator, clause, piece, dropped))
    if any(dropped for *_, dropped in clauses):  # what is left of it must still say something
        clauses = [
            (separator, clause, piece, dropped or (bool(piece.strip()) and _is_fragment(piece)))
            for separator, clause, piece, dropped in clauses
        ]
        kept = [piece for *_, piece, dropped in clauses if not dropped]
        if kept and _SUBORDINATE.match(kept[0]) and len(kept) == 1:  # "If you have a concern."
            clauses = [(separator, clause, piece, True) for separator, clause, piece, _ in clauses]
    pieces: list[str] = []
    after_dropped = False
    for separator, _clause, piece, dropped in clauses:
        if dropped:
            after_dropped = True
            continue
        if after_dropped:
            piece = _LEADING_JOINER.sub("", _EDGE_MARKS.sub("", piece))
            after_dropped = False
        if not piece.strip():
            continue
        if pieces:
            joint = _kept_chars(text, separator, gone, set()) if separator else " "
            pieces.append(joint if joint.strip() else " ")
        pieces.append(piece)
    changed = bool(replaced or gone or lowered)
    sentence_text = " ".join(_SPACE_BEFORE_MARK.sub("", "".join(pieces)).split())
    if lowered:
        sentence_text = _LOWERCASE_I.sub("I", sentence_text)
    if sentence_text and changed and not sentence_text.endswith((".", "!", "?")):
        sentence_text = _EDGE_MARKS.sub("", sentence_text) + "."
    dropped_clauses = [clause for _, clause, _, dropped in clauses if dropped]
    return _Sentence(
        text=sentence_text[:1].upper() + sentence_text[1:],
        unchanged=not changed,
        adds=adds,
        notes=notes,
        reframed=[way for clause in dropped_clauses if (way := _reframed(rules, text, clause))],
        facts=[fact for clause in dropped_clauses for fact in _facts(text, clause)],
    )


def _reframed(rules: RewriteRules, text: ReplyText, clause: Span) -> str | None:
    """A blaming "you should have checked X" as the way out "All you need to do is check X"."""
    found = rules.reframe.search(text.folded, clause.start, clause.end)
    base = found and rules.base_forms.get(found.group("verb"))
    if not found or not base:
        return None
    rest = text.original[found.start("rest") : found.end("rest")].rstrip(" ,;:")
    return rules.reframe_says.format(fix=base + rest)


# -- what to leave out ---------------------------------------------------------------------------


def repeated_characters(text: ReplyText) -> set[int]:
    """Offsets of what the draft says again at once: rows of emoji, runs of the same words."""
    gone: set[int] = set()
    for row in _EMOJI_ROW.finditer(text.original):
        gone.update(range(*row.span()))
    words = [word.strip(_PUNCTUATION) or word for word in text.folded.split()]
    # A piece said again straight after itself repeats its first two words ("no no no" too):
    # where each pair of words is said next is where a repeat of the piece from there can start.
    pairs = list(itertools.pairwise(words))
    if len(set(pairs)) == len(pairs):
        return gone  # no pair of words said twice: nothing repeated (most replies)
    following: list[int | None] = [None] * len(pairs)
    last_seen: dict[tuple[str, str], int] = {}
    for at in range(len(pairs) - 1, -1, -1):
        following[at] = last_seen.get(pairs[at])
        last_seen[pairs[at]] = at
    runs: list[tuple[int, int]] = []  # (last word kept, last word said again)
    at = 0
    while at < len(pairs):
        run = _repeat_run(words, at, following) if following[at] is not None else None
        if run is None:
            at += 1
            continue
        size, end = run
        runs.append((at + size - 1, end - 1))
        at = end
    if runs:
        ends = [token.end() for token in _TOKEN.finditer(text.folded)]
        for kept, said_again in runs:
            gone.update(range(ends[kept], ends[said_again]))
    return gone


def _repeat_run(words: list[str], at: int, following: list[int | None]) -> tuple[int, int] | None:
    """(piece size, end) of a run of the piece from `at` said again straight after itself;
    `following`: where each pair of words is said next."""
    longest = min(_LONGEST_REPEATED_PIECE, (len(words) - at) // 2)
    later = following[at]
    while later is not None and later - at <= longest:
        size = later - at
        if words[at : at + size] == words[later : later + size]:
            end = later + size
            while words[at : at + size] == words[end : end + size]:
                end += size
            if size > 1 or (end - at) >= _REPEATS_OF_ONE_WORD:
                return size, end
        later = following[later]
    return None


def _folded(sentence: str) -> str:
    """Lowercase with straight apostrophes: enough for the rubric's patterns on one sentence."""
    return sentence.translate(_STRAIGHT_APOSTROPHES).lower()


def _normalised(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.lower()))


# -- putting the rewrite together ----------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A piece of the rewrite: the forms it may take, the one with most placeholders first."""

    forms: tuple[str, ...]
    priority: int = 0  # which part keeps its placeholders first when there are too many

    @classmethod
    def draft(cls, text: str) -> _Part:
        return cls((text,))


def _render(parts: list[_Part], limit: int) -> str:
    """The parts in order, each in the richest form the placeholder limit leaves room for."""
    chosen: dict[int, str] = {}
    left = limit
    for index in sorted(range(len(parts)), key=lambda i: parts[i].priority):
        part = parts[index]
        if part.priority == 0:  # the draft's own words: brackets in them are not ours
            chosen[index] = part.forms[0]
            continue
        form = next((f for f in part.forms if len(_PLACEHOLDER.findall(f)) <= left), part.forms[-1])
        left -= len(_PLACEHOLDER.findall(form))
        chosen[index] = form
    said = [chosen[index] for index in range(len(parts)) if chosen[index].strip()]
    return " ".join([*map(_finished, said[:-1]), *said[-1:]])


def _finished(sentence: str) -> str:
    """A sentence the draft left without a full stop gets one before the next (not after a link,
    which would take it in)."""
    last = sentence.rsplit(None, 1)[-1]
    if sentence[-1].isalnum() and "/" not in last and "." not in last:
        return sentence + "."
    return sentence


@dataclass(frozen=True)
class RewriteInput:
    """What the rewrite works from: the draft, how it was judged, and what it answers."""

    text: ReplyText
    steps: Steps
    cuts: list[Cut]
    way_out: WayOut
    customer_message: str | None = None


def _cuts_by_sentence(
    rules: RewriteRules, text: ReplyText, cuts: Iterable[Cut], way_out: WayOut
) -> dict[int, list[Cut]]:
    """The cuts of each sentence: the triggers' and the `[[leave_out]]` rules' (but never in the
    sentences that give an at-fault customer their way out)."""
    by_sentence: dict[int, list[Cut]] = {}
    for cut in cuts:
        by_sentence.setdefault(text.sentence_index(cut.span.start), []).append(cut)
    for rule in (rule for rule in rules.leave_out if not rule.sentence):
        for match in rule.pattern.finditer(text.folded):
            index = text.sentence_index(match.start())
            if text.quote(text.sentences[index]) not in way_out.evidence:
                cut = Cut(text.trimmed(Span(*match.span())), "replace_clause", rule.adds)
                by_sentence.setdefault(index, []).append(cut)
    return by_sentence


def suggest_rewrite(rubric: Rubric, draft: RewriteInput) -> str:
    """The reply with its inflaming, injected and repeated wording left out and what was missing
    added; sentences without any stay word for word."""
    rules = load_rewrite_rules()
    text = draft.text
    injection = rubric.guards.injection
    gone = repeated_characters(text)
    by_sentence = _cuts_by_sentence(rules, text, draft.cuts, draft.way_out)
    team = _team_named(rules, text)
    sentences: list[_Sentence] = []
    seen: set[str] = set()
    # Orders to the grader are not for the customer: their sentences go whole.
    orders = [injection, *(rule.pattern for rule in rules.leave_out if rule.sentence)]
    orders = [pattern for pattern in orders if pattern.search(text.folded)]
    for index, span in enumerate(text.sentences):
        if any(pattern.search(text.folded, span.start, span.end) for pattern in orders):
            continue
        here = by_sentence.get(index, [])
        touched = here or (gone and not gone.isdisjoint(range(span.start, span.end)))
        sentence = (
            _rewrite_sentence(rules, text, span, here, gone)
            if touched
            else _Sentence(text.quote(span), unchanged=True)
        )
        key = _normalised(sentence.text)
        if key and key in seen:
            sentence.text = ""  # said again: once is enough
        seen.add(key)
        sentence.adds = [add.format(team=team or "{team}") for add in sentence.adds]
        sentences.append(sentence)
    return _assemble(rubric, rules, draft, sentences)


def _team_named(rules: RewriteRules, text: ReplyText) -> str | None:
    found = rules.team.search(text.folded)
    return text.original[found.start() : found.end()] if found else None


def _assemble(
    rubric: Rubric, rules: RewriteRules, draft: RewriteInput, sentences: list[_Sentence]
) -> str:
    kept = [sentence for sentence in sentences if sentence.text]
    apologised, weak = _apologies(rubric, rules, draft.steps.apologize, kept)
    sympathised = _sympathises(rubric, draft.steps.sympathize, sentences)
    problem = None
    if not (apologised and sympathised):
        unsaid = [rubric.guards.injection]
        if draft.way_out.customer_at_fault:  # saying their mistake back would corner them
            unsaid += [cue.pattern for cue in rubric.way_out.at_fault if cue.level > 0]
        triggers = [rule.pattern for rule in rubric.triggers if not rule.case_sensitive]
        problem = problem_in_their_words(rules.problem, draft.customer_message, unsaid, triggers)
    known = bool(draft.customer_message)
    opening = _opening(rubric, rules, draft.way_out, apologised, sympathised, problem, known)

    body = _body(rubric, rules, sentences, [] if apologised else weak)
    # The additions go after the draft's own apology, else first (after a greeting).
    after = next((i + 1 for i, part in enumerate(body) if part.forms[0] in apologised), None)
    if after is None:
        after = _split_greeting(body) if opening else 0
    parts = body[:after] + opening + body[after:]

    closing = _next_step(rubric, rules, draft, sentences)
    everything = " ".join(part.forms[0] for part in parts + closing)
    owned = draft.steps.responsibility.score == 2
    if not owned and not rules.commitment.search(_folded(everything)):
        closing.insert(0, _Part.draft(rubric.steps["responsibility"].rewrite_add))
    signature = _signature(parts)
    rewrite = _render(parts + closing + signature, rules.placeholder_limit)
    handles = _LEADING_HANDLES.match(draft.text.original)
    return f"{handles.group().strip()} {rewrite}" if handles else rewrite


def _apologies(
    rubric: Rubric, rules: RewriteRules, verdict: StepVerdict, kept: list[_Sentence]
) -> tuple[list[str], list[str]]:
    """The kept sentences that apologise for the problem, and the weak apologies ("sorry for any
    inconvenience", a bare "Sorry." left of "Sorry, but…") that hold nothing else. Only what the
    rewrite changed and what the engine quoted is judged again (a quoted apology may have been
    capped by a wall elsewhere); the engine found no apology in the rest."""
    evidence = set(verdict.evidence)
    judged = [sentence for sentence in kept if not sentence.unchanged or sentence.text in evidence]
    texts = [sentence.text for sentence in judged]
    cues = rubric.steps["apologize"].cues
    partial = _matching(texts, [cue.pattern for cue in cues if cue.overrides and cue.level < 2])
    full = _matching(texts, [cue.pattern for cue in cues if cue.level == 2])
    apologised, weak = [], []
    for index, sentence in enumerate(judged):
        remnant = not sentence.unchanged and rules.bare_apology.search(_folded(sentence.text))
        if remnant or index in partial:
            if len(_WORD.findall(sentence.text)) <= 12 and not _FACT.search(sentence.text):
                weak.append(sentence.text)
        elif index in full:
            apologised.append(sentence.text)
    return apologised, weak


def _sympathises(rubric: Rubric, verdict: StepVerdict, sentences: list[_Sentence]) -> bool:
    """Whether what is kept validates the customer's feelings: an unchanged sentence the engine
    credited, or a changed one (or a reframed blame) that does."""
    if verdict.score == 2 and any(s.unchanged and s.text in verdict.evidence for s in sentences):
        return True
    said = [s.text for s in sentences if s.text and not s.unchanged]
    said += [way for sentence in sentences for way in sentence.reframed]
    cues = [cue.pattern for cue in rubric.steps["sympathize"].cues if cue.level == 2]
    return bool(_matching(said, cues))


def _matching(texts: list[str], patterns: Iterable[re.Pattern[str]]) -> set[int]:
    """Which of `texts` some pattern matches: one scan of them all per pattern, not one each."""
    starts, joined = [], ""
    for text in texts:
        starts.append(len(joined))
        joined += _folded(text) + "\n"  # a line break: the patterns stop at sentence ends
    return {
        bisect.bisect_right(starts, found.start()) - 1
        for pattern in patterns
        for found in pattern.finditer(joined)
    }


def _opening(
    rubric: Rubric,
    rules: RewriteRules,
    way_out: WayOut,
    apologised: list[str],
    sympathised: bool,
    problem: str | None,
    message_known: bool,
) -> list[_Part]:
    """The apology, sympathy and way out the draft misses, naming the problem when known."""
    add = rules.add
    opening: list[_Part] = []
    if not apologised:
        apology = add["apology_with_problem"].format(problem=problem) if problem else None
        opening.append(_Part.draft(apology or rubric.steps["apologize"].rewrite_add))
    if not sympathised:
        # "that" can point back to an apology that named the problem
        named = any(len(sentence.split()) > 4 for sentence in apologised)
        if named or (problem and not apologised):
            opening.append(_Part.draft(add["sympathy_after_apology"]))
        elif problem:
            opening.append(_Part.draft(add["sympathy_with_problem"].format(problem=problem)))
        elif message_known:  # no placeholder for what the message says, if not in its words
            opening.append(_Part.draft(add["sympathy_plain"]))
        else:
            forms = (rubric.steps["sympathize"].rewrite_add, add["sympathy_plain"])
            opening.append(_Part(forms, _PROBLEM))
    if way_out.customer_at_fault and not way_out.offered:
        opening.append(_Part.draft(rubric.way_out.rewrite))
    return opening


def _body(
    rubric: Rubric, rules: RewriteRules, sentences: list[_Sentence], replaced: list[str]
) -> list[_Part]:
    """The draft's sentences as parts (but the weak apologies `replaced`), each followed by a
    note keeping the facts of its dropped clauses that appear nowhere else, and by what goes in
    place of those clauses."""
    kept_text = " ".join(
        [s.text for s in sentences] + [add for s in sentences for add in s.adds + s.reframed]
    )
    parts: list[_Part] = []
    placed: set[str] = set()
    for sentence in sentences:
        if sentence.text and sentence.text not in replaced:
            parts.append(_Part.draft(sentence.text))
        lost = [fact for fact in dict.fromkeys(sentence.facts) if fact not in kept_text]
        lost = [fact for fact in lost if not any(fact in other for other in lost if other != fact)]
        if lost:
            parts.append(_Part((rubric.kept_facts.format(details="; ".join(lost)),), _FACTS_NOTE))
            kept_text += " " + " ".join(lost)
        parts += [_Part.draft(way) for way in sentence.reframed]
        for add in (add for add in sentence.adds if add not in placed):
            placed.add(add)
            plain = add.format(team=rules.team_unknown_plain) if "{team}" in add else add
            parts.append(_Part((add.format(team=rules.team_unknown), plain), _STEP))
        parts += [_Part((note, ""), _NOTE) for note in dict.fromkeys(sentence.notes)]
    return parts


def _signature(parts: list[_Part]) -> list[_Part]:
    """The draft's sign-off, taken off the end of `parts` so what is added goes before it."""
    found = _SIGNATURE.search(parts[-1].forms[0]) if parts and not parts[-1].priority else None
    if not found:
        return []
    rest = parts[-1].forms[0][: found.start()]
    parts[-1:] = [_Part.draft(rest)] if rest else []
    return [_Part.draft(found.group("signature"))]


def _split_greeting(body: list[_Part]) -> int:
    """Where the additions go when the draft has no apology: after a greeting that opens it."""
    if not body or body[0].priority:
        return 0
    found = _GREETING.match(body[0].forms[0])
    if not found:
        return 0
    rest = found.group("rest")
    if rest:
        body[0:1] = [_Part.draft(found.group("greeting")), _Part.draft(rest[:1].upper() + rest[1:])]
    return 1


def _next_step(
    rubric: Rubric, rules: RewriteRules, draft: RewriteInput, sentences: list[_Sentence]
) -> list[_Part]:
    """The closing next step, as much of it as the draft does not already give."""
    act = draft.steps.act
    kept = [s.text for s in sentences if s.text]
    unchanged = " ".join(s.text for s in sentences if s.unchanged)
    if act.score == 2 and any(evidence in unchanged for evidence in act.evidence):
        return []
    stepped = [bool(rules.company_step.search(_folded(sentence))) for sentence in kept]
    timed = [bool(rules.time.search(_folded(sentence))) for sentence in kept]
    # A time in the step's sentence or the next one ("I'll call you back. Expect it by 3pm.")
    if any(step and (timed[i] or timed[i + 1 : i + 2] == [True]) for i, step in enumerate(stepped)):
        return []
    if any(stepped) or any(sentence.adds for sentence in sentences):
        return [_Part(tuple(rules.add["when_only"]), _TIME)]
    forms = (rubric.steps["act"].rewrite_add, *rules.add["step_and_when_shorter"])
    return [_Part(forms, _STEP)]
