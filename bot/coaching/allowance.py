"""How much LLM use a person and a workspace may have: LLM critiques per person per hour, and
tokens per workspace per calendar month (UTC), the practice customer's included.

Each call is one row of `llm_uses` (kind and tokens, no text). The LLM engines ask `check` before
a call and record it with `spend` after, on behalf of the person their `for_user` names; when a
limit is reached the offline engine answers and the person is told why, in words from
`prompts/critique/limits.toml`. The limits are soft under concurrency: calls checked at the same
moment may together pass a limit by the number of calls in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.coaching.critique import TokenUsage
from bot.prompt_files import read_toml
from bot.settings import Settings
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.models import LlmKind, LlmUse

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Allowed:
    pass


@dataclass(frozen=True)
class Refused:
    """`reason` becomes the critique's `fallback_reason`, `message` what the person reads."""

    reason: str
    message: str


ALLOWED = Allowed()


def _next_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class LlmAllowance:
    def __init__(
        self,
        db: Database,
        *,
        critiques_per_hour: int,
        monthly_tokens: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """A limit of 0 is no limit."""
        self.db = db
        self.critiques_per_hour = critiques_per_hour
        self.monthly_tokens = monthly_tokens
        self.clock = clock

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> LlmAllowance:
        return cls(
            db,
            critiques_per_hour=settings.llm_critiques_per_user_hour,
            monthly_tokens=settings.llm_monthly_token_budget,
        )

    def of(self, team_id: str, user_id: str) -> PersonalAllowance:
        return PersonalAllowance(self, team_id, user_id)

    def check(self, team_id: str, user_id: str, kind: LlmKind) -> Allowed | Refused:
        """Whether `user_id` of `team_id` may have one more LLM call of `kind` now. The
        practice customer's words count only against the workspace's tokens: each practice turn
        is also a critique, which the hourly limit counts."""
        now = self.clock()
        with self.db.session() as session:
            if self.monthly_tokens:
                month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                spent = session.scalar(
                    select(
                        func.coalesce(func.sum(LlmUse.input_tokens + LlmUse.output_tokens), 0)
                    ).where(LlmUse.team_id == team_id, LlmUse.created_at >= month)
                )
                if spent >= self.monthly_tokens:
                    return self._monthly_refusal(now)
            if kind is LlmKind.critique and self.critiques_per_hour:
                count, oldest = session.execute(
                    select(func.count(), func.min(LlmUse.created_at)).where(
                        LlmUse.team_id == team_id,
                        LlmUse.user_id == user_id,
                        LlmUse.kind == LlmKind.critique,
                        LlmUse.created_at > now - HOUR,
                    )
                ).one()
                if count >= self.critiques_per_hour:
                    return self._hourly_refusal(oldest + HOUR)
        return ALLOWED

    def spend(self, team_id: str, user_id: str, kind: LlmKind, usage: TokenUsage) -> None:
        """Record one call (a failed one too: it counts against the hour, with the tokens the
        server reported, none when it did not answer)."""
        with self.db.session() as session:
            session.add(
                LlmUse(
                    team_id=team_id,
                    user_id=user_id,
                    kind=kind,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    created_at=self.clock(),
                )
            )

    def _hourly_refusal(self, resumes_at: datetime) -> Refused:
        message = read_toml("critique", "limits.toml")["hourly"].format(
            limit=self.critiques_per_hour, resumes_at=f"{resumes_at:%H:%M}"
        )
        return Refused("llm_hourly_limit", message)

    def _monthly_refusal(self, now: datetime) -> Refused:
        resumes = _next_month(now)
        message = read_toml("critique", "limits.toml")["monthly"].format(
            budget=f"{self.monthly_tokens:,}",
            month=f"{now:%B}",
            resumes_on=f"{resumes.day} {resumes:%B}",
        )
        return Refused("llm_monthly_budget", message)


@dataclass(frozen=True)
class PersonalAllowance:
    """One person's allowance in one workspace, as an LLM engine working for them uses it."""

    allowance: LlmAllowance
    team_id: str
    user_id: str

    def check(self, kind: LlmKind) -> Allowed | Refused:
        return self.allowance.check(self.team_id, self.user_id, kind)

    def spend(self, kind: LlmKind, usage: TokenUsage) -> None:
        self.allowance.spend(self.team_id, self.user_id, kind, usage)
