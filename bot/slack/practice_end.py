"""Use cases: end a practice session (`/practice end`, the End button), time out idle sessions,
and post a finished session's scorecard in its thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from slack_sdk.errors import SlackApiError

from bot.blocks.practice import scorecard_message, texts
from bot.coaching.practice.service import Finished, SessionView
from bot.jobs.job import Job
from bot.metrics import PRACTICE_SESSIONS
from bot.services import Services
from bot.slack.errors import is_transient, slack_reason
from bot.slack.notices import respond
from bot.slack.practice_threads import post_in_thread, session_link
from bot.store.base import utcnow

logger = logging.getLogger(__name__)

# A scorecard not settled this long after its session ended had its job lost (or still
# retrying): the practice tick enqueues another.
SCORECARD_GRACE = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True)
class ScorecardDue(Job):
    """A session ended: its stored scorecard goes in its thread (retried on Slack's 429s)."""

    task: ClassVar[str] = "post_scorecard"

    team_id: str
    session_id: int

    @classmethod
    def of(cls, session: SessionView) -> ScorecardDue:
        return cls(team_id=session.team_id, session_id=session.id)


@dataclass(frozen=True, kw_only=True)
class PracticeEndAsked(Job):
    """`session_id`: the End button's session, which must be the user's active one; None for
    `/practice end` (whatever session is active)."""

    task: ClassVar[str] = "end_practice"

    team_id: str
    user_id: str
    response_url: str
    session_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class IdlePracticeDue(Job):
    """The scheduler's tick: end every session idle past the inactivity timeout, and see to the
    scorecards still owed (a job that would post one can be lost with the queue)."""

    task: ClassVar[str] = "time_out_idle_practice"


def post_scorecard(services: Services, due: ScorecardDue) -> None:
    """Once per session: a settled scorecard is not posted again (a retried or repeated job)."""
    practice = services.practice
    session = practice.session(due.team_id, due.session_id)
    if session is None or session.scorecard_settled:
        return
    scorecard = practice.scorecard(due.team_id, due.session_id)
    if session.thread_ts is not None and scorecard is not None:  # else: nowhere, or nothing
        try:
            post_in_thread(services.slack(due.team_id), session, scorecard_message(scorecard))
        except SlackApiError as error:
            if is_transient(error):
                raise  # retried later from the queue
            # The thread's channel is gone (archived, the bot removed): the session stays closed.
            logger.warning(
                "could not post the scorecard of practice session %s (%s)",
                session.id,
                slack_reason(error),
            )
    practice.settle_scorecard(due.team_id, due.session_id)
    PRACTICE_SESSIONS.labels(outcome=session.status.value).inc()


def end_practice(services: Services, asked: PracticeEndAsked) -> None:
    practice = services.practice
    active = practice.active_session(asked.team_id, asked.user_id)
    if active is None or (asked.session_id is not None and active.id != asked.session_id):
        respond(asked.response_url, {"text": texts()["not_your_session"]})
        return
    result = practice.end(asked.team_id, asked.user_id)
    if not isinstance(result, Finished):
        respond(asked.response_url, {"text": result.message})
        return
    services.enqueue(ScorecardDue.of(result.session))
    text = texts()["ended"].format(link=session_link(result.session))
    respond(asked.response_url, {"text": text})


def time_out_idle_practice(services: Services, due: IdlePracticeDue) -> None:
    practice = services.practice
    finished = practice.time_out_idle()
    for session in finished:
        services.enqueue(ScorecardDue.of(session.session))
    if finished:
        logger.info("timed out %d idle practice sessions", len(finished))
    for owed in practice.scorecards_owed(ended_before=utcnow() - SCORECARD_GRACE):
        # One waiting job per session, however many ticks see it owed.
        services.jobs.enqueue(ScorecardDue.of(owed), queueing_lock=f"scorecard:{owed.id}")
