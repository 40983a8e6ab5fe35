"""Block actions: the buttons and menus on ticket cards."""
from __future__ import annotations

from slack_bolt import App


def register(app: App) -> None:
    """Card actions are wired in by the triage-tools work."""
