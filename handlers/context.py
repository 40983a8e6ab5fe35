"""What the listeners take from Bolt's context: the request's database session."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.inbox import DB


def db(context: Any) -> Session:
    session = context.get(DB)
    if session is None:  # the with_session middleware always sets it; this is a wiring bug
        raise RuntimeError("no database session in the Bolt context")
    return session


def team_of(body: dict[str, Any]) -> str:
    return str(body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id") or "")
