"""The App Home tab: a person's progress, and for admins the settings and the disputes."""

from __future__ import annotations

from typing import Any

from bot.blocks.disputes import open_dispute_blocks, resolved_disputes_blocks
from bot.blocks.reminder import practise_button
from bot.blocks.schedule import schedule_description
from bot.blocks.text import escape, header, section
from bot.coaching.critique import STEPS
from bot.coaching.disputes import DisputeOverview
from bot.prompt_files import read_toml
from bot.reminders.digest import load_texts
from bot.reminders.progress import (
    AdminOverview,
    CritiqueSummary,
    ScheduleSummary,
    StepTrend,
    UserProgress,
)

HOME_BLOCK_LIMIT = 100


def home_view(progress: UserProgress, admin: AdminOverview | None) -> dict[str, Any]:
    """The `view` of views.publish; `admin` is None for people who are not admins."""
    blocks = _progress_blocks(progress)
    if admin is not None:
        blocks += _admin_blocks(admin)
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}


def _texts() -> dict[str, Any]:
    return read_toml("slack", "home.toml")


def _progress_blocks(progress: UserProgress) -> list[dict[str, Any]]:
    texts = _texts()
    blocks = [
        header(texts["title"]),
        _list_section(
            texts["practice_heading"],
            [
                texts["session_line"].format(
                    day=s.started_on.isoformat(),
                    scenario=s.scenario_id,
                    status=texts["statuses"][s.status],
                )
                for s in progress.sessions
            ],
            texts["no_practice"],
        ),
    ]
    if progress.trends:
        blocks.append(_list_section(texts["trend_heading"], _trend_lines(progress.trends), ""))
    if progress.weakest_step is not None:
        step = load_texts().steps[progress.weakest_step]
        blocks.append(section(texts["weakest"].format(step=step)))
        label = texts["practise_step"].format(step=step)
        blocks.append(practise_button(label, progress.weakest_step))
    blocks.append(
        _list_section(
            texts["critiques_heading"],
            [_critique_line(c) for c in progress.critiques],
            texts["no_critiques"],
        )
    )
    return blocks


def _trend_lines(trends: tuple[StepTrend, ...]) -> list[str]:
    texts = _texts()
    steps = load_texts().steps
    return [
        texts["trend_line"].format(
            step=steps[trend.step],
            earlier=_score(trend.earlier),
            recent=_score(trend.recent),
        )
        for trend in trends
    ]


def _score(average: float | None) -> str:
    return _texts()["no_score"] if average is None else f"{average:.1f}/2"


def _critique_line(critique: CritiqueSummary) -> str:
    letters = _texts()["step_letters"]
    scores = " · ".join(
        f"{letters[step]} {score}" for step, score in zip(STEPS, critique.scores, strict=True)
    )
    return _texts()["critique_line"].format(
        day=critique.created_on.isoformat(), channel=critique.channel_id, scores=scores
    )


def _admin_blocks(admin: AdminOverview) -> list[dict[str, Any]]:
    texts = _texts()
    watched = ", ".join(f"<#{channel}>" for channel in admin.watched_channels)
    disputes = admin.disputes
    return [
        {"type": "divider"},
        header(texts["admin_title"]),
        _list_section(texts["watched_heading"], [watched] if watched else [], texts["no_watched"]),
        _list_section(
            texts["schedules_heading"],
            [_schedule_line(s) for s in admin.schedules],
            texts["no_schedules"],
        ),
        _disputes_heading(disputes),
        *(block for dispute in disputes.open for block in open_dispute_blocks(dispute)),
        *(resolved_disputes_blocks(disputes, admin.team_id) if disputes.resolved else []),
    ]


def _disputes_heading(disputes: DisputeOverview) -> dict[str, Any]:
    texts = _texts()
    if not disputes.open:
        return _list_section(texts["disputes_heading"], [], texts["no_disputes"])
    if disputes.waiting > len(disputes.open):
        more = texts["disputes_more"].format(waiting=disputes.waiting, shown=len(disputes.open))
        return section(f"{texts['disputes_heading']} {more}")
    return section(texts["disputes_heading"])


def _schedule_line(schedule: ScheduleSummary) -> str:
    texts = _texts()
    if schedule.paused_reason is not None:
        return texts["paused_line"].format(
            channel=schedule.channel_id, reason=escape(schedule.paused_reason)
        )
    return texts["schedule_line"].format(
        channel=schedule.channel_id,
        schedule=schedule_description(schedule.local_time, schedule.timezone, schedule.weekdays),
        quiet=texts["quiet_suffix"] if schedule.skip_quiet_days else "",
    )


def _list_section(heading: str, lines: list[str], empty: str) -> dict[str, Any]:
    return section("\n".join([heading, *(lines or [empty])]))
