"""Dashboard links: `<id>.<expiry>.<signature>`, an HMAC over the link's row, so a link can be
checked without a lookup table of secrets, and revoked by marking its row.

The key is HYPERCARE_DASHBOARD_SECRET, or else derived from the Slack signing secret (never the
signing secret itself, so a dashboard link can't be turned into a Slack signature).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import Session

from bot.errors import ConfigError
from bot.runtime.settings import Settings
from models.dashboard_tables import DashboardLink
from models.types import utcnow

SHARED_LIFETIME = timedelta(days=365)
PATH = "/dashboard"


def _key(settings: Settings) -> bytes:
    if settings.dashboard_secret:
        return settings.dashboard_secret.encode()
    if settings.signing_secret:
        return hmac.new(settings.signing_secret.encode(), b"hypercare dashboard links", hashlib.sha256).digest()
    raise ConfigError("Dashboard links need HYPERCARE_DASHBOARD_SECRET (or SLACK_SIGNING_SECRET) to sign them.")


def _signature(settings: Settings, link: DashboardLink, expires: int) -> str:
    message = f"{link.id}.{link.team_id}.{link.nonce}.{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _epoch(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp())


def create(session: Session, *, settings: Settings, team_id: str, user: str | None, kind: str, now: datetime | None = None) -> tuple[DashboardLink, str]:
    """A new link row and its token. Personal links last HYPERCARE_DASHBOARD_LINK_HOURS (12 h)."""
    now = now or utcnow()
    lifetime = SHARED_LIFETIME if kind == "shared" else timedelta(hours=settings.dashboard_link_hours)
    link = DashboardLink(team_id=team_id, kind=kind, nonce=secrets.token_hex(8), created_by=user, created_at=now,
                         expires_at=(now + lifetime).replace(microsecond=0))
    session.add(link)
    session.flush()  # the id is part of the token
    return link, token_of(settings, link)


def token_of(settings: Settings, link: DashboardLink) -> str:
    expires = _epoch(link.expires_at)
    return f"{link.id}.{expires}.{_signature(settings, link, expires)}"


def url_of(settings: Settings, token: str, *, base: str | None = None) -> str:
    root = (base or settings.public_url or f"http://localhost:{settings.port}").rstrip("/")
    return f"{root}{PATH}?k={token}"


def verify(session: Session, *, settings: Settings, token: str | None, now: datetime | None = None) -> DashboardLink | None:
    """The link a token stands for, or None when it is missing, forged, expired or revoked."""
    if not token or token.count(".") != 2 or len(token) > 200:
        return None
    raw_id, raw_expiry, signature = token.split(".")
    if not (raw_id.isdigit() and raw_expiry.isdigit()) or len(raw_id) > 9 or len(raw_expiry) > 12:
        return None  # (an id past PostgreSQL's integer range would fail the lookup, not just miss)
    link = session.get(DashboardLink, int(raw_id))
    if link is None or _epoch(link.expires_at) != int(raw_expiry):
        return None
    try:
        expected = _signature(settings, link, int(raw_expiry))
    except ConfigError:
        return None
    if not hmac.compare_digest(expected, signature):
        return None
    if link.revoked_at is not None or (now or utcnow()) >= link.expires_at:
        return None
    return link


def revoke_all(session: Session, *, team_id: str, user: str, now: datetime | None = None) -> int:
    """Revoke every live link of the workspace (shared and personal): how many were live."""
    result = session.execute(update(DashboardLink).where(
        DashboardLink.team_id == team_id, DashboardLink.revoked_at.is_(None), DashboardLink.expires_at > (now or utcnow()),  # type: ignore[union-attr,operator]
    ).values(revoked_at=now or utcnow(), revoked_by=user))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
