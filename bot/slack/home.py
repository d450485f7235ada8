"""Use case: publish someone's App Home tab afresh when they open it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.blocks.home import home_view
from bot.jobs.job import Job
from bot.reminders.progress import admin_overview, user_progress
from bot.services import Services
from bot.slack.admins import admin_user
from bot.store.base import utcnow


@dataclass(frozen=True, kw_only=True)
class HomeOpened(Job):
    task: ClassVar[str] = "publish_home"

    team_id: str
    user_id: str

    def lock(self) -> str:
        # Opened twice quickly: the second publish waits for the first (the newer wins).
        return f"home:{self.team_id}:{self.user_id}"


def publish_home(services: Services, opened: HomeOpened) -> None:
    client = services.slack(opened.team_id)
    admin = admin_user(services.db, client, opened.team_id, opened.user_id) is not None
    with services.db.session() as session:
        progress = user_progress(session, opened.team_id, opened.user_id, utcnow())
        overview = admin_overview(session, opened.team_id) if admin else None
    client.views_publish(user_id=opened.user_id, view=home_view(progress, overview))
