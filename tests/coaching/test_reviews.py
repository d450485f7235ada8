"""Critiques requested in Slack, over SQLite and PostgreSQL: computed once, delivered once per
requester, stored within the workspace's privacy setting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.coaching.critique import MAX_REPLY_CHARS, Critique, CritiqueRequest
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.reviews import (
    Review,
    ReviewedMessage,
    check_draft,
    mark_delivered,
    record_dispute,
    record_rating,
    release_request,
    request_critique,
    review_state,
)
from bot.store.models import (
    ChannelSettings,
    CritiqueDelivery,
    CritiqueFeedback,
    FeedbackKind,
    Workspace,
)
from bot.store.models import Critique as CritiqueRow
from bot.store.models import CritiqueRequest as RequestRow
from bot.store.workspaces import set_critique_delivery

REPLY = "I'm so sorry your parcel is late. That's on us: I'll send a new one today."
MESSAGE = ReviewedMessage(
    team_id="T1",
    channel_id="C1",
    message_ts="1700000000.000100",
    author_user_id="UAGENT",
    text=REPLY,
    customer_messages=("Where is my parcel?!",),
)


class CountingEngine:
    def __init__(self) -> None:
        self.runs = 0
        self.requests: list[CritiqueRequest] = []
        self._offline = OfflineCritiqueEngine()

    def critique(self, request: CritiqueRequest) -> Critique:
        self.runs += 1
        self.requests.append(request)
        return self._offline.critique(request)


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


def ask(database, engine, message: ReviewedMessage, requester: str, source: str) -> Review:
    """What a critique job does: read the state, then get or compute the critique."""
    state = review_state(
        database, message.team_id, message.channel_id, message.message_ts, requester
    )
    return request_critique(database, engine, message, requester, source, state)


def _state(database, requester: str):
    return review_state(database, "T1", "C1", MESSAGE.message_ts, requester)


def _allow_text(database, allowed: bool = True) -> None:
    with database.session() as session:
        session.add(Workspace(team_id="T1", store_reply_text=allowed))


def _count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_first_request_computes_and_stores_scores_only_by_default(database, engine) -> None:
    review = ask(database, engine, MESSAGE, "UAGENT", "reaction")

    assert review.first_for_requester
    assert review.critique.steps.apologize.evidence  # the requester gets the full critique
    with database.session() as session:
        row = session.get_one(CritiqueRow, review.critique_id)
        assert (row.author_user_id, row.engine) == ("UAGENT", "offline")
        assert row.apologize == review.critique.steps.apologize.score
        assert row.overall == review.critique.overall
        assert (row.result, row.reply_text) == (None, None)
        request = session.get_one(RequestRow, review.request_id)
        assert (request.requester_user_id, request.source) == ("UAGENT", "reaction")


def test_the_same_requester_asking_again_is_not_a_first_request(database, engine) -> None:
    first = ask(database, engine, MESSAGE, "UAGENT", "reaction")
    again = ask(database, engine, MESSAGE, "UAGENT", "reaction")

    assert not again.first_for_requester
    assert (again.critique_id, again.request_id) == (first.critique_id, first.request_id)
    assert _count(database, RequestRow) == 1


def test_only_a_delivered_request_counts_as_delivered(database, engine) -> None:
    review = ask(database, engine, MESSAGE, "UAGENT", "reaction")
    assert not _state(database, "UAGENT").delivered_to_requester  # e.g. a crash before posting

    mark_delivered(database, "T1", review.request_id)

    assert _state(database, "UAGENT").delivered_to_requester
    assert not _state(database, "ULEAD").delivered_to_requester


def test_a_second_requester_reuses_the_stored_result_when_text_may_be_stored(
    database, engine
) -> None:
    _allow_text(database)
    first = ask(database, engine, MESSAGE, "UAGENT", "reaction")
    second = ask(database, engine, MESSAGE, "ULEAD", "shortcut")

    assert engine.runs == 1
    assert second.first_for_requester
    assert second.critique == first.critique
    with database.session() as session:
        row = session.get_one(CritiqueRow, first.critique_id)
        assert row.reply_text == REPLY and row.result is not None
    assert (_count(database, CritiqueRow), _count(database, RequestRow)) == (1, 2)


def test_without_stored_text_a_second_requester_gets_it_recomputed_with_the_same_scores(
    database, engine
) -> None:
    first = ask(database, engine, MESSAGE, "UAGENT", "reaction")
    second = ask(database, engine, MESSAGE, "ULEAD", "reaction")

    assert engine.runs == 2
    assert second.critique_id == first.critique_id
    assert second.critique.scores() == first.critique.scores()
    assert second.critique.steps.apologize.evidence


def test_concurrent_requests_store_one_critique_and_one_request(database, engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        reviews = list(
            pool.map(
                lambda _: ask(database, engine, MESSAGE, "UAGENT", "reaction"),
                range(4),
            )
        )

    assert sum(review.first_for_requester for review in reviews) == 1
    assert (_count(database, CritiqueRow), _count(database, RequestRow)) == (1, 1)


def test_only_the_first_max_reply_chars_of_a_message_are_critiqued_and_stored(
    database, engine
) -> None:
    _allow_text(database)
    huge = ReviewedMessage(**{**MESSAGE.__dict__, "text": REPLY + "x" * 40_000})

    review = ask(database, engine, huge, "UAGENT", "reaction")

    assert review.truncated
    assert engine.requests[0].agent_reply == huge.text[:MAX_REPLY_CHARS]
    with database.session() as session:
        assert session.get_one(CritiqueRow, review.critique_id).reply_text == huge.text[:4000]
    assert not ask(database, engine, MESSAGE, "ULEAD", "reaction").truncated


def test_mark_delivered_stamps_the_request(database, engine) -> None:
    review = ask(database, engine, MESSAGE, "UAGENT", "reaction")
    mark_delivered(database, "T1", review.request_id)
    with database.session() as session:
        assert session.get_one(RequestRow, review.request_id).delivered_at is not None


def test_another_workspace_cannot_deliver_or_release_a_request(database, engine) -> None:
    review = ask(database, engine, MESSAGE, "UAGENT", "reaction")

    mark_delivered(database, "T2", review.request_id)
    release_request(database, "T2", review.request_id)

    with database.session() as session:
        assert session.get_one(RequestRow, review.request_id).delivered_at is None
    release_request(database, "T1", review.request_id)
    assert _count(database, RequestRow) == 0


def test_ratings_are_one_per_user_and_disputes_keep_their_comment(database, engine) -> None:
    critique_id = ask(database, engine, MESSAGE, "UAGENT", "reaction").critique_id

    assert record_rating(database, "T1", critique_id, "UAGENT", FeedbackKind.useful)
    assert not record_rating(database, "T1", critique_id, "UAGENT", FeedbackKind.not_useful)
    assert record_rating(database, "T1", critique_id, "ULEAD", FeedbackKind.not_useful)
    assert record_dispute(database, "T1", critique_id, "UAGENT", "  I did apologise!  ")

    with database.session() as session:
        feedback = session.scalars(select(CritiqueFeedback).order_by(CritiqueFeedback.id)).all()
    assert [(f.user_id, f.kind, f.comment) for f in feedback] == [
        ("UAGENT", FeedbackKind.useful, None),
        ("ULEAD", FeedbackKind.not_useful, None),
        ("UAGENT", FeedbackKind.dispute, "I did apologise!"),
    ]


def test_concurrent_ratings_by_one_user_store_one(database, engine) -> None:
    critique_id = ask(database, engine, MESSAGE, "UAGENT", "reaction").critique_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        recorded = list(
            pool.map(
                lambda _: record_rating(database, "T1", critique_id, "UAGENT", FeedbackKind.useful),
                range(4),
            )
        )

    assert sorted(recorded) == [False, False, False, True]
    assert _count(database, CritiqueFeedback) == 1


def test_feedback_on_another_workspaces_critique_is_refused(database, engine) -> None:
    critique_id = ask(database, engine, MESSAGE, "UAGENT", "reaction").critique_id

    assert not record_rating(database, "T2", critique_id, "UX", FeedbackKind.useful)
    assert not record_dispute(database, "T2", critique_id, "UX", "no")
    assert _count(database, CritiqueFeedback) == 0


def test_settings_default_until_a_team_sets_them(database) -> None:
    state = _state(database, "UAGENT")
    assert (state.watched, state.delivery, state.store_reply_text, state.stored) == (
        False,
        CritiqueDelivery.direct_message,
        False,
        None,
    )

    with database.session() as session:
        session.add(ChannelSettings(team_id="T1", channel_id="C1", watched=True))
    with database.session() as session:
        set_critique_delivery(session, "T1", "C1", CritiqueDelivery.thread_reply)
        set_critique_delivery(session, "T1", "C2", CritiqueDelivery.thread_reply)

    state = _state(database, "UAGENT")
    assert state.watched and state.delivery is CritiqueDelivery.thread_reply
    elsewhere = review_state(database, "T1", "C2", MESSAGE.message_ts, "UAGENT")
    assert elsewhere.delivery is CritiqueDelivery.thread_reply and not elsewhere.watched


def test_a_huge_draft_is_checked_on_its_first_characters() -> None:
    engine = CountingEngine()
    check = check_draft(engine, "I'm sorry. " * 1000)
    assert check.truncated and engine.runs == 1
    assert not check_draft(engine, "x" * MAX_REPLY_CHARS).truncated
