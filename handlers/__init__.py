"""Thin Slack adapters: parse payloads, call bot/, send the replies. One module per kind."""
from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, events, messages, shortcuts, views
from handlers import followups
from handlers import loop
from handlers import trackers


def register(app: App) -> None:
    for module in (messages, events, commands, actions, views, shortcuts, followups):
        module.register(app)
    loop.register(app)
    trackers.register(app)
