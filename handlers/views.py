"""Modal submissions."""
from __future__ import annotations

from slack_bolt import App


def register(app: App) -> None:
    """The new-ticket modal's submission is wired in by the intake work."""
