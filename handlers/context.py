"""What the listeners take from a request: its database session, its team."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.runtime.transaction import session_of


def db(context: Any) -> Session:
    """The request's session: one transaction per request (bot.runtime.transaction.TransactionalApp)."""
    return session_of(context)


def team_of(body: dict[str, Any]) -> str:
    return str(body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id") or "")
