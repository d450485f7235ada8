"""The bot scopes asap-coach asks for: exactly what its listeners and Web API calls need.

deploy/slack-app-manifest.yml lists the same scopes; tests/test_manifest.py keeps them in step
with the code.
"""

BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "reactions:read",
    "reactions:write",
    "usergroups:read",
    "users:read",
)
