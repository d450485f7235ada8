"""Disputes as Block Kit: the entries on an admin's Home tab, the Agree and Disagree forms their
buttons open, and the messages that tell people the outcome.

Everything a person wrote (the comment, the reply, the reason) is escaped and cut, so it can
neither ping nor break Slack's limits.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.text import (
    MODAL_TITLE_LIMIT,
    button,
    context,
    inline,
    message_link,
    plain,
    quoted,
    section,
    truncate,
)
from bot.coaching.critique import STEPS
from bot.coaching.disputes import Dispute, DisputeOverview, Levels
from bot.prompt_files import read_toml
from bot.store.models import DisputeResolution

AGREE_ACTION = "dispute_agree"
DISAGREE_ACTION = "dispute_disagree"
AGREE_CALLBACK = "dispute_agree_form"
DISAGREE_CALLBACK = "dispute_disagree_form"
TRIGGER_INPUT = "trigger"  # the Agree form's inputs are the steps and this
REASON_INPUT = "reason"
COMMENT_SHOWN = 300
WORDS_SHOWN = 1200  # characters of the disputed reply
NOTE_SHOWN = 300
REASON_LIMIT = 1000


def texts() -> dict[str, Any]:
    return read_toml("slack", "disputes.toml")


def _critique_texts() -> dict[str, Any]:
    return read_toml("slack", "critique.toml")


# ------------------------------------------------------------------ the Home tab


def open_dispute_blocks(dispute: Dispute) -> list[dict[str, Any]]:
    """One open dispute: what it is about, the scores and words, and the two buttons."""
    labels = texts()["buttons"]
    buttons = [
        button(AGREE_ACTION, labels["agree"], str(dispute.id), "primary"),
        button(DISAGREE_ACTION, labels["disagree"], str(dispute.id)),
    ]
    return [
        section(_about(dispute)),
        section(_scores_and_words(dispute)),
        {"type": "actions", "block_id": f"dispute_{dispute.id}", "elements": buttons},
    ]


def resolved_disputes_blocks(overview: DisputeOverview, team_id: str) -> list[dict[str, Any]]:
    """How many disputes were resolved each way, the latest ones, and how to export labels."""
    t = texts()
    agreed = overview.counts[DisputeResolution.agreed]
    heading = t["resolved_heading"].format(
        agreed=agreed, disagreed=overview.counts[DisputeResolution.disagreed]
    )
    blocks = [section("\n".join([heading, *map(_resolved_line, overview.resolved)]))]
    if agreed:
        blocks.append(context(t["export_hint"].format(team=team_id)))
    return blocks


def _about(dispute: Dispute) -> str:
    t = texts()
    comment = f"“{inline(dispute.comment, COMMENT_SHOWN)}”" if dispute.comment else t["no_comment"]
    return t["entry"].format(
        day=dispute.created_at.date().isoformat(),
        user=dispute.user_id,
        link=_link(dispute),
        channel=dispute.channel_id,
        comment=comment,
    )


def _scores_and_words(dispute: Dispute) -> str:
    t = texts()
    scores = t["scores"].format(
        scores=scores_text(dispute.scores), trigger=t["trigger"][str(int(dispute.has_trigger))]
    )
    if dispute.reply_text is None:
        return f"{scores}\n{t['not_stored']}"
    return f"{scores}\n{t['words'].format(quote=quoted(truncate(dispute.reply_text, WORDS_SHOWN)))}"


def _resolved_line(dispute: Dispute) -> str:
    t = texts()
    assert dispute.resolved_at is not None and dispute.resolution is not None
    fields = {
        "day": dispute.resolved_at.date().isoformat(),
        "admin": dispute.resolved_by,
        "user": dispute.user_id,
        "link": _link(dispute),
    }
    if dispute.resolution is DisputeResolution.agreed:
        return t["agreed_line"].format(scores=scores_text(dispute.scores), **fields)
    return t["disagreed_line"].format(
        note=inline(dispute.resolution_note or "", NOTE_SHOWN), **fields
    )


def scores_text(scores: dict[str, int]) -> str:
    """`Apologize 2/2 · Sympathize 0/2 · …`"""
    t, steps = texts(), _critique_texts()["steps"]
    return " · ".join(t["score"].format(step=steps[step], score=scores[step]) for step in STEPS)


# ------------------------------------------------------------------ the forms


def agree_modal(dispute: Dispute) -> dict[str, Any]:
    """The lead sets each step's level (the critique's scores to start with) and the trigger."""
    t, chips = texts()["agree"], _critique_texts()["chips"]
    steps = _critique_texts()["steps"]
    levels = [(str(level), chips[str(level)]) for level in (2, 1, 0)]
    inputs = [_radio(step, steps[step], levels, str(dispute.scores[step])) for step in STEPS]
    triggers = [(value, label) for value, label in t["trigger_options"].items()]
    inputs.append(
        _radio(TRIGGER_INPUT, t["trigger_label"], triggers, str(int(dispute.has_trigger)))
    )
    return _form(
        AGREE_CALLBACK,
        dispute,
        t,
        [
            section(_about(dispute)),
            section(_scores_and_words(dispute)),
            section(t["intro"]),
            *inputs,
            context(_outcome(t, dispute)),
        ],
    )


def disagree_modal(dispute: Dispute) -> dict[str, Any]:
    t = texts()["disagree"]
    reason = {
        "type": "input",
        "block_id": REASON_INPUT,
        "label": plain(t["label"], 2000),
        "element": {
            "type": "plain_text_input",
            "action_id": REASON_INPUT,
            "multiline": True,
            "max_length": REASON_LIMIT,
            "placeholder": plain(t["placeholder"], 150),
        },
    }
    blocks = [
        section(_about(dispute)),
        section(_scores_and_words(dispute)),
        reason,
        context(_outcome(t, dispute)),
    ]
    return _form(DISAGREE_CALLBACK, dispute, t, blocks)


def agreed_levels(view: dict[str, Any]) -> Levels:
    """The levels picked in a submitted Agree form (each input starts with an option)."""
    values = view["state"]["values"]
    return Levels(
        **{
            name: int(values[name][name]["selected_option"]["value"])
            for name in (*STEPS, TRIGGER_INPUT)
        }
    )


def disagree_reason(view: dict[str, Any]) -> str:
    return (view["state"]["values"][REASON_INPUT][REASON_INPUT].get("value") or "").strip()


def reason_missing_errors() -> dict[str, str]:
    """The `errors` of a view_submission answer for a reason left blank."""
    return {REASON_INPUT: texts()["disagree"]["reason_missing"]}


def _form(
    callback_id: str, dispute: Dispute, t: dict[str, Any], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": str(dispute.id),
        "title": plain(t["title"], MODAL_TITLE_LIMIT),
        "submit": plain(t["submit"], MODAL_TITLE_LIMIT),
        "close": plain(_critique_texts()["modal"]["close"], MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }


def _radio(name: str, label: str, options: list[tuple[str, str]], initial: str) -> dict[str, Any]:
    # The block and its element share the name, so the state is values[name][name].
    choices = [{"text": plain(text, 75), "value": value} for value, text in options]
    return {
        "type": "input",
        "block_id": name,
        "label": plain(label, 2000),
        "element": {
            "type": "radio_buttons",
            "action_id": name,
            "options": choices,
            "initial_option": next(c for c in choices if c["value"] == initial),
        },
    }


def _outcome(t: dict[str, Any], dispute: Dispute) -> str:
    return t["outcome"].format(user=dispute.user_id)


# ------------------------------------------------------------------ telling people


def outcome_message(dispute: Dispute) -> dict[str, Any]:
    """The DM to the person who disputed, once an admin resolved it."""
    told = texts()["told"]
    assert dispute.resolution is not None
    text = told[dispute.resolution.value].format(
        admin=dispute.resolved_by,
        link=_link(dispute),
        channel=dispute.channel_id,
        scores=scores_text(dispute.scores),
        reason=inline(dispute.resolution_note or "", REASON_LIMIT),
    )
    return {"text": text}


def already_resolved_text(dispute: Dispute) -> str:
    assert dispute.resolution is not None
    return texts()["already"][dispute.resolution.value].format(admin=dispute.resolved_by)


def notice_text(name: str) -> str:
    """`not_admin` or `gone`: why an admin's click could not count."""
    return texts()["told"][name]


def _link(dispute: Dispute) -> str:
    return message_link(dispute.channel_id, dispute.message_ts)
