"""Role-play practice: the bot plays an upset customer, the agent practises ASAP replies.

Slack-free on purpose (the Slack layer and the terminal both drive it): never import slack_bolt,
slack_sdk or bot.listeners here.
"""
