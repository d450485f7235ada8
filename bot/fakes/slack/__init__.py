"""A stateful fake of Slack on loopback: Web API, Events API, commands and interactivity."""

from bot.fakes.slack.driver import Attempt, Delivery
from bot.fakes.slack.errors import SlackError
from bot.fakes.slack.fake import FakeSlack, RequestUrlError
from bot.fakes.slack.records import Change, Ephemeral, Message, Reaction, User, View
from bot.fakes.slack.webapi import ApiCall

__all__ = [
    "ApiCall",
    "Attempt",
    "Change",
    "Delivery",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "Reaction",
    "RequestUrlError",
    "SlackError",
    "User",
    "View",
]
