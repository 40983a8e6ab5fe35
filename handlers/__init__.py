"""Thin Slack adapters: parse payloads, call bot/, send the replies. One module per kind.

`register` is the one place listeners are added to the app; what they share (the settings, the
cached workspace directory) is built here and handed to each module's `register`.
"""
from __future__ import annotations

from slack_bolt import App

from bot.settings import Settings
from handlers import actions, commands, events, followups, loop, messages, shortcuts, trackers, views
from handlers.directory import Directory


def register(app: App, *, settings: Settings) -> None:
    directory = Directory(client=app.client, settings=settings)  # one cache for every listener
    for module in (messages, shortcuts, followups):
        module.register(app)
    for shared in (events, commands, actions, views, loop, trackers):
        shared.register(app, settings=settings, directory=directory)
