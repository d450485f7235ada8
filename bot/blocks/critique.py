"""A critique as Block Kit: the message (DM or thread reply), the modal, the draft check, and the
dispute form.

Everything quoted (evidence, triggers, the rewrite, tips an LLM wrote) is escaped, so a message
containing `<!channel>` or a disguised link is shown, never acted on; every text is cut to Slack's
limits so a long message never gets the critique refused.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.text import (
    MODAL_TITLE_LIMIT,
    SECTION_TEXT_LIMIT,
    button,
    context,
    escape,
    header,
    inline,
    message,
    plain,
    quoted,
    section,
    truncate,
)
from bot.coaching.critique import MAX_REPLY_CHARS, Critique, StepVerdict
from bot.coaching.reviews import DraftCheck
from bot.prompt_files import read_toml

PRACTISE_ACTION = "critique_practise"
USEFUL_ACTION = "critique_useful"
NOT_USEFUL_ACTION = "critique_not_useful"
DISPUTE_ACTION = "critique_dispute"
DISPUTE_CALLBACK = "critique_dispute_form"
DISPUTE_BLOCK = "dispute"
DISPUTE_INPUT = "dispute_comment"

EVIDENCE_SHOWN = 3  # quotes per step; the rest are counted
QUOTE_LIMIT = 300  # characters of one quote
TRIGGERS_SHOWN = 5
TIP_LIMIT = 500
REWRITE_LIMIT = 2500  # before escaping, which may lengthen it; the section limit is the backstop
COMMENT_LIMIT = 2000


def texts() -> dict[str, Any]:
    return read_toml("slack", "critique.toml")


def critique_message(
    critique: Critique,
    critique_id: int,
    *,
    author: str | None,
    requester: str,
    truncated: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage: the critique with its feedback buttons.
    `truncated`: only the first MAX_REPLY_CHARS characters of the message were critiqued."""
    t = texts()
    intro = (
        t["requested_by_author"]
        if requester == author
        else t["requested_by_other"].format(requester=requester)
    )
    if truncated:
        intro += "\n" + _truncated_note()
    blocks = [_header(critique), section(intro), *_body(critique), _actions(critique_id)]
    return message(_fallback(critique), blocks)


def draft_check_message(check: DraftCheck) -> dict[str, Any]:
    """Keyword arguments for `respond`: the critique of a draft, with nothing to click."""
    t = texts()
    intro = t["check"]["intro"]
    if check.truncated:
        intro += "\n" + t["check"]["truncated"].format(limit=f"{MAX_REPLY_CHARS:,}")
    blocks = [_header(check.critique), section(intro), *_body(check.critique)]
    return message(_fallback(check.critique), blocks)


def critique_modal(critique: Critique, critique_id: int, truncated: bool = False) -> dict[str, Any]:
    note = [section(_truncated_note())] if truncated else []
    return _modal([_header(critique), *note, *_body(critique), _actions(critique_id)])


def _truncated_note() -> str:
    return texts()["truncated"].format(limit=f"{MAX_REPLY_CHARS:,}")


def working_modal() -> dict[str, Any]:
    return _modal([section(texts()["modal"]["working"])])


def notice_modal(text: str) -> dict[str, Any]:
    """A small modal with one line, for answers given where there is no channel to post in."""
    return _modal([section(text)], title=texts()["modal"]["notice_title"])


def dispute_modal(critique_id: int) -> dict[str, Any]:
    t = texts()["dispute"]
    return {
        "type": "modal",
        "callback_id": DISPUTE_CALLBACK,
        "private_metadata": str(critique_id),
        "title": plain(t["title"], MODAL_TITLE_LIMIT),
        "submit": plain(t["submit"], MODAL_TITLE_LIMIT),
        "close": plain(texts()["modal"]["close"], MODAL_TITLE_LIMIT),
        "blocks": [
            section(t["intro"]),
            {
                "type": "input",
                "block_id": DISPUTE_BLOCK,
                "label": plain(t["label"]),
                "element": {
                    "type": "plain_text_input",
                    "action_id": DISPUTE_INPUT,
                    "multiline": True,
                    "max_length": COMMENT_LIMIT,
                    "placeholder": plain(t["placeholder"]),
                },
            },
        ],
    }


def _modal(blocks: list[dict[str, Any]], title: str | None = None) -> dict[str, Any]:
    t = texts()["modal"]
    return {
        "type": "modal",
        "title": plain(title or t["title"], MODAL_TITLE_LIMIT),
        "close": plain(t["close"], MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }


def _body(critique: Critique) -> list[dict[str, Any]]:
    if critique.not_scored:  # no scores to show: only why, and which engine said so
        return [section(escape(critique.not_scored))]
    blocks = [section(escape(truncate(critique.summary, SECTION_TEXT_LIMIT)))]
    blocks += [section(_step_text(name, verdict)) for name, verdict in critique.steps.items()]
    if critique.triggers:
        blocks.append(section(_triggers_text(critique)))
    if critique.way_out.customer_at_fault:
        blocks.append(section(_way_out_text(critique)))
    if critique.rewrite:  # none when an LLM's rewrite in another language failed its checks
        rewrite = quoted(truncate(critique.rewrite, REWRITE_LIMIT))
        blocks.append(section(f"{texts()['rewrite_heading']}\n{rewrite}"))
    blocks.append(context(_engine_text(critique)))
    return blocks


def _step_text(name: str, verdict: StepVerdict) -> str:
    t = texts()
    lines = [f"*{t['steps'][name]}*  {t['chips'][str(verdict.score)]}"]
    shown = verdict.evidence[:EVIDENCE_SHOWN]
    lines += [quoted(f"“{truncate(quote, QUOTE_LIMIT)}”") for quote in shown]
    hidden = len(verdict.evidence) - EVIDENCE_SHOWN
    if hidden > 0:
        lines.append(t["evidence_more"].format(count=hidden))
    if verdict.score < 2 and verdict.tip:
        lines.append(t["tip"].format(tip=escape(truncate(verdict.tip, TIP_LIMIT))))
    return "\n".join(lines)


def _triggers_text(critique: Critique) -> str:
    t = texts()
    lines = [t["triggers_heading"]]
    for trigger in critique.triggers[:TRIGGERS_SHOWN]:
        lines.append(
            t["trigger"].format(
                quote=inline(trigger.quote, QUOTE_LIMIT),
                why=inline(trigger.why, TIP_LIMIT),
                better=inline(trigger.better, TIP_LIMIT),
            )
        )
    hidden = len(critique.triggers) - TRIGGERS_SHOWN
    if hidden > 0:
        lines.append(t["triggers_more"].format(count=hidden))
    return "\n".join(lines)


def _way_out_text(critique: Critique) -> str:
    t = texts()
    if critique.way_out.offered:
        return t["way_out_offered"]
    return t["way_out_missing"].format(tip=inline(critique.way_out.tip, TIP_LIMIT))


def _engine_text(critique: Critique) -> str:
    t = texts()
    if critique.notice:  # why the offline engine answered, in the words of prompts/critique/
        return critique.notice
    if critique.fallback_reason:
        return t["fallback_notes"].get(critique.fallback_reason, t["fallback_note"])
    return t["engine_note"].format(engine=critique.engine.value)


def _actions(critique_id: int) -> dict[str, Any]:
    labels = texts()["buttons"]
    buttons = [
        (PRACTISE_ACTION, labels["practise"], "primary"),
        (USEFUL_ACTION, labels["useful"], None),
        (NOT_USEFUL_ACTION, labels["not_useful"], None),
        (DISPUTE_ACTION, labels["dispute"], "danger"),
    ]
    elements = [
        button(action_id, label, str(critique_id), style) for action_id, label, style in buttons
    ]
    return {"type": "actions", "block_id": "critique_actions", "elements": elements}


def _header(critique: Critique) -> dict[str, Any]:
    return header(_headline(critique))


def _headline(critique: Critique) -> str:
    if critique.not_scored:
        return texts()["header_not_scored"]
    return texts()["header"].format(overall=critique.overall)


def _fallback(critique: Critique) -> str:
    """The notification text: the score and the summary, short."""
    return f"{_headline(critique)} — {escape(truncate(critique.summary, SECTION_TEXT_LIMIT))}"
