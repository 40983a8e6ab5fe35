"""Thin Slack adapters: parse payloads, call bot/, send the replies. One module per kind.

`register` is the one place listeners are added to the app; what they share (the settings, the
cached workspace directory) is built here and handed to each module's `register`.
"""
from __future__ import annotations

from slack_bolt import App

from bot.runtime.settings import Settings
from handlers import actions, commands, events, followups, loop, messages, shortcuts, trackers, views, warmup
from handlers.directory import Directory
from handlers.membership import Membership


def register(app: App, *, settings: Settings, directory: Directory) -> None:
    """`directory`: the one cache of who is who (bot.runtime.app builds it, and warms it at start-up)."""
    membership = Membership(app.client)  # one cache of the bot's channels for every listener
    for module in (messages, followups):
        module.register(app)
    shortcuts.register(app, membership=membership)
    for shared in (events, actions, loop, trackers):
        shared.register(app, settings=settings, directory=directory)
    commands.register(app, settings=settings, directory=directory, membership=membership)
    views.register(app, settings=settings, directory=directory, membership=membership)
    warmup.register(app)  # answers the start-up request that fills Bolt's auth.test cache
