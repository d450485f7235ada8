from __future__ import annotations

import json

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.critique import (
    DISPUTE_ACTION,
    critique_message,
    critique_modal,
    dispute_modal,
    draft_check_message,
)
from bot.blocks.text import MESSAGE_TEXT_LIMIT, SECTION_TEXT_LIMIT
from bot.coaching.critique import Critique, CritiqueRequest
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.reviews import DraftCheck

APOLOGY = "I'm sorry for the wait"


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def _critique(evidence: tuple[str, ...] = (APOLOGY,), rewrite: str = "") -> Critique:
    """A fixed critique, so the snapshots follow the blocks and not the engine's wording."""
    tip = "Name the problem you're sorry for."
    return Critique.model_validate(
        {
            "steps": {
                "apologize": {"score": 1, "evidence": list(evidence), "tip": tip},
                "sympathize": {"score": 0, "tip": "Say how this feels for them."},
                "responsibility": {"score": 0, "tip": "Own it: this one's on us."},
                "act": {"score": 2, "evidence": ["I'll chase the warehouse today"]},
            },
            "triggers": [
                {
                    "kind": "calm_down",
                    "quote": "calm down",
                    "why": "It tells them their feelings don't count.",
                    "better": "I can hear how frustrating this has been.",
                }
            ],
            "way_out": {"customer_at_fault": True, "offered": False, "tip": "Blame the form."},
            "overall": 38,
            "summary": "Commits to a next step, but shows no sympathy; inflaming: calm down.",
            "rewrite": rewrite or "I'm so sorry your refund is late.\nI'll chase it today.",
            "engine": "offline",
        }
    )


def _texts(message: dict) -> list[str]:
    return [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]


def test_critique_message_for_someone_elses_request(snapshot_json) -> None:
    message = critique_message(_critique(), 42, author="UAGENT", requester="ULEAD")
    assert "<@ULEAD> asked" in _texts(message)[0]
    assert message == snapshot_json


def test_critique_modal(snapshot_json) -> None:
    assert critique_modal(_critique(), 42) == snapshot_json


def test_dispute_modal_carries_the_critique_id(snapshot_json) -> None:
    modal = dispute_modal(42)
    assert modal["private_metadata"] == "42"
    assert modal == snapshot_json


def test_the_buttons_carry_the_critique_id() -> None:
    message = critique_message(_critique(), 42, author="UAGENT", requester="UAGENT")
    [actions] = [block for block in message["blocks"] if block["type"] == "actions"]
    assert {button["value"] for button in actions["elements"]} == {"42"}
    assert DISPUTE_ACTION in {button["action_id"] for button in actions["elements"]}
    assert "your message you asked for" in _texts(message)[0]


def test_quoted_text_cannot_ping_or_disguise_links() -> None:
    quote = "<!channel> I'm so sorry. See <https://evil.example|your bank> & <@U999>, sorry!"
    critique = _critique(evidence=(quote,), rewrite=quote)
    message = critique_message(critique, 1, author="UAGENT", requester="UAGENT")
    posted = json.dumps(message)
    for raw in ("<!channel>", "<https://evil", "<@U999>"):
        assert raw not in posted
    assert "&lt;!channel&gt;" in posted


def test_a_huge_reply_is_cut_to_slacks_limits() -> None:
    reply = "I'm so sorry & I understand how upsetting this is. <!here> " * 400  # ~24,000 chars
    critique = _critique(evidence=(reply,) * 300, rewrite=reply)
    message = critique_message(critique, 1, author="UAGENT", requester="ULEAD")

    assert len(message["blocks"]) <= 50
    assert len(message["text"]) <= MESSAGE_TEXT_LIMIT
    assert all(len(text) <= SECTION_TEXT_LIMIT for text in _texts(message))
    assert any(text.endswith("…") for text in _texts(message))
    assert "more" in _texts(message)[2]  # the evidence beyond the first quotes is counted


def test_a_truncated_draft_check_says_so_and_has_no_buttons() -> None:
    message = draft_check_message(DraftCheck(_critique(), truncated=True))
    assert "first 4,000 characters" in _texts(message)[0]
    assert all(block["type"] != "actions" for block in message["blocks"])


def test_a_truncated_message_says_only_its_beginning_was_critiqued() -> None:
    message = critique_message(_critique(), 1, author="UAGENT", requester="UAGENT", truncated=True)
    modal = critique_modal(_critique(), 1, truncated=True)
    for blocks in (message["blocks"], modal["blocks"]):
        assert "first 4,000 characters" in json.dumps(blocks, ensure_ascii=False)
    plain = critique_message(_critique(), 1, author="UAGENT", requester="UAGENT")
    assert "first 4,000" not in json.dumps(plain)


def test_a_reply_the_offline_engine_cannot_read_shows_why_and_no_score(snapshot_json) -> None:
    not_read = OfflineCritiqueEngine().critique(
        CritiqueRequest(agent_reply="Lo sentimos mucho, su pedido llegará mañana por la mañana.")
    )
    message = critique_message(not_read, 42, author="UAGENT", requester="UAGENT")
    assert message == snapshot_json
    texts = " ".join(_texts(message))
    assert "set an LLM engine" in texts
    assert "/100" not in json.dumps(message) and "partial" not in texts


def test_a_critique_made_offline_for_a_reason_says_so_in_its_own_words() -> None:
    notice = "Scored by the offline engine: you've had 60 AI critiques in the past hour."
    limited = _critique().model_copy(
        update={"fallback_reason": "llm_hourly_limit", "notice": notice}
    )
    failed = _critique().model_copy(update={"fallback_reason": "llm_timeout"})
    for critique, shown in [(limited, notice), (failed, "the LLM engine was unavailable")]:
        message = critique_message(critique, 1, author="UAGENT", requester="UAGENT")
        (context,) = [block for block in message["blocks"] if block["type"] == "context"]
        assert shown in json.dumps(context, ensure_ascii=False)


def test_a_critique_without_a_rewrite_shows_no_empty_rewrite() -> None:
    message = critique_message(
        _critique().model_copy(update={"rewrite": ""}), 1, author="UAGENT", requester="UAGENT"
    )
    assert all("rewrite" not in text.lower() for text in _texts(message))
