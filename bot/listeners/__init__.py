"""Slack glue: parse the request, ack it, hand the work to a job. One module per surface."""

from slack_bolt import App

from bot.listeners import actions, commands, deliveries, events, shortcuts, views
from bot.services import Services


def register_all(app: App, services: Services) -> None:
    deliveries.register(app, services)
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
    shortcuts.register(app, services)
    views.register(app, services)
