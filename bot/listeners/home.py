"""The App Home tab: published afresh each time someone opens it."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.reminders.progress import admin_overview, user_progress
from bot.services import Services
from bot.slack.admins import is_admin, slack_user
from bot.store.base import utcnow


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def publish_home(event: dict, client: WebClient, context: BoltContext) -> None:
        # The same event comes for the Messages tab, which has nothing to publish.
        if event.get("tab") == "home":
            publish(services, client, context.team_id, event["user"])


def publish(services: Services, client: WebClient, team_id: str, user_id: str) -> None:
    admin = is_admin(services.db, team_id, slack_user(client, user_id))
    with services.db.session() as session:
        progress = user_progress(session, team_id, user_id, utcnow())
        overview = admin_overview(session, team_id) if admin else None
    client.views_publish(user_id=user_id, view=home_view(progress, overview))
