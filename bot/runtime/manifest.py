"""The Slack app manifest, built here and committed as manifest.yml (a test keeps the two equal).

`SCOPE_FOR_METHOD` and `SCOPE_FOR_EVENT` say which OAuth scope each Web API method and event the
code uses needs; the manifest's scopes are derived from them so it asks for exactly what is used.
"""
from __future__ import annotations

import copy
from typing import Any

import yaml

COMMAND = "/hc"
SHORTCUT_CALLBACK = "hc_create_ticket"

SCOPE_FOR_METHOD: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.getPermalink": None,
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "conversations.info": "channels:read",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.users.list": "usergroups:read",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "apps.connections.open": None,  # app-level token (connections:write), not a bot scope
}
# History in private channels needs the groups: twin of the channels: scope.
PRIVATE_TWIN = {"channels:history": "groups:history", "channels:read": "groups:read"}
# Scopes a method needs besides its own: the outbox reads a DM's history (im:history) to find a
# post whose answer was lost in a crash before posting it again (bot.delivery.outbox).
ALSO_FOR_METHOD = {"conversations.history": ("im:history",)}
SCOPE_FOR_EVENT = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "reaction_added": "reactions:read",
    "app_home_opened": None,
}
BOT_EVENTS = tuple(SCOPE_FOR_EVENT)
# Slash commands and shortcuts need the `commands` scope.
ALWAYS = ("commands",)


def scopes_for(methods: set[str]) -> list[str]:
    scopes = set(ALWAYS)
    for method in methods:
        scope = SCOPE_FOR_METHOD[method]
        if scope:
            scopes.add(scope)
            if scope in PRIVATE_TWIN:
                scopes.add(PRIVATE_TWIN[scope])
        scopes.update(ALSO_FOR_METHOD.get(method, ()))
    scopes.update(s for s in SCOPE_FOR_EVENT.values() if s)
    return sorted(scopes)


# The Web API methods the code calls; tests/test_manifest.py scans the code to keep this honest.
METHODS_USED = {
    "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.getPermalink", "reactions.add",
    "conversations.history", "conversations.replies", "conversations.info", "views.open",
    "views.publish", "usergroups.users.list", "users.list",  # App Home; the triage user group; bare @name
    "users.info",  # the reporter's timezone, for follow-up reminders in working hours
    "conversations.open", "reactions.remove",  # resolution DMs; a reopened report loses its check mark
    "files.getUploadURLExternal", "files.completeUploadExternal",  # the digest's chart
    "users.lookupByEmail",  # a tracker's assignee or closer → the Slack user with that e-mail (bot.trackers)
    "views.update",  # a form opened before membership was known turns into how to invite the bot (no scope)
    "auth.test",  # the bot's own ids, to drop its own events at the acknowledgement (no scope needed)
}

MANIFEST: dict[str, Any] = {
    "_metadata": {"major_version": 1, "minor_version": 1},
    "display_information": {
        "name": "Hypercare",
        "description": "Turns war-room reports into tickets, asks for missing details, posts stand-up digests.",
        "background_color": "#1d3557",
    },
    "features": {
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        "bot_user": {"display_name": "Hypercare", "always_online": True},
        "slash_commands": [{
            "command": COMMAND,
            "description": "File and triage launch issues",
            "usage_hint": "new <what went wrong> | list | show HC-12 | help",
            "should_escape": True,
        }],
        "shortcuts": [{
            "name": "Create ticket",
            "type": "message",
            "callback_id": SHORTCUT_CALLBACK,
            "description": "File this message as a Hypercare ticket",
        }],
    },
    "oauth_config": {"scopes": {"bot": scopes_for(METHODS_USED)}},
    "settings": {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": True,
        "token_rotation_enabled": False,
    },
}


def manifest(*, url: str | None = None) -> dict[str, Any]:
    """Socket Mode manifest by default; with a public base URL, the HTTP-mode manifest."""
    data = copy.deepcopy(MANIFEST)
    if url:
        endpoint = url.rstrip("/") + "/slack/events"
        data["settings"]["socket_mode_enabled"] = False
        data["settings"]["event_subscriptions"]["request_url"] = endpoint
        data["settings"]["interactivity"]["request_url"] = endpoint
        for command in data["features"]["slash_commands"]:
            command["url"] = endpoint
    return data


def render_manifest(*, url: str | None = None) -> str:
    header = "# Slack app manifest for Hypercare. Generated by `hypercare manifest`; see README.md.\n"
    return header + yaml.safe_dump(manifest(url=url), sort_keys=False, allow_unicode=True)
