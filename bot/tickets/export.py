"""`hypercare export`: tickets as JSON ({"tickets": [...]}) or CSV, on stdout."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from typing import Any, TextIO

from bot.errors import UserInputError
from bot.runtime.settings import Settings
from models import queries
from models.db import make_engine, session_scope
from models.tables import STATUSES, Ticket

EXPORT_FIELDS = (
    "key", "title", "description", "category", "severity", "status", "reporter", "assignee", "channel",
    "message_ts", "thread_ts", "permalink", "steps", "expected", "actual", "environment", "missing",
    "duplicate_of", "affected_users", "created_at", "updated_at", "first_response_at", "resolved_at", "resolution",
)


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    """The public shape of a ticket (export, and anything else that hands tickets out)."""
    record: dict[str, Any] = {}
    for name in EXPORT_FIELDS:
        value = ticket.key if name == "key" else getattr(ticket, name)
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat()
        record[name] = value
    return record


def parse_since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserInputError(f"--since must be a date like 2026-11-01 or an ISO 8601 time, got {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def export_tickets(*, settings: Settings, fmt: str, statuses: list[str] | None, since: str | None, out: TextIO) -> int:
    for status in statuses or []:
        if status not in STATUSES:
            raise UserInputError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    engine = make_engine(settings.database_url)
    try:
        from models.db import upgrade

        upgrade(engine)
        with session_scope(engine) as session:
            rows = [ticket_record(t) for t in queries.tickets(session, statuses=statuses, since=parse_since(since) if since else None)]
    finally:
        engine.dispose()
    if fmt == "json":
        json.dump({"tickets": rows}, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()})
    return len(rows)
