"""The message shortcut "Create ticket"."""
from __future__ import annotations

from slack_bolt import App


def register(app: App) -> None:
    """The shortcut is wired in by the intake work."""
