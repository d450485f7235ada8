"""Slack-side work that listeners and scheduled jobs hand off to: building clients, posting
critiques, practice turns and reminders, reading channels. Listeners (bot/listeners) only parse,
ack and call in here; the domain (bot/coaching, bot/reminders) never imports this package."""
