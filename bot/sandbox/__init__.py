"""`asap-coach sandbox`: the real bot, the fake Slack, and a local Slack-like page to use them.

The bot runs exactly as `asap-coach run` serves it over HTTP (bolt app, waitress, its SQLite
database in the sandbox's data folder). People act on the page; the sandbox server turns each
action into the fake Slack's driver call (`user_posts`, `send_command`, `click`, …), which sends
the app a signed request as Slack would. Every Web API call the app makes lands in the fake,
whose changes reach the page as server-sent events. Nothing of the bot is re-implemented here.
"""

from bot.sandbox.runtime import Sandbox

__all__ = ["Sandbox"]
