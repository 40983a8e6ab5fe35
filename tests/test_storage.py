"""Storage behaves the same on SQLite and PostgreSQL (every test here runs on both)."""
from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.delivery import outbox
from bot.tickets.export import export_tickets
from bot.runtime.settings import Settings
from bot.tickets.service import NewTicket, change, create_ticket, get_ticket
from models import queue
from models.db import session_scope
from models.tables import OutboxMessage, TicketEvent
from models.types import utcnow


def new(team: str = "T1", title: str = "Payments fail") -> NewTicket:
    return NewTicket(team_id=team, title=title, description=title, category="bug", severity="high", reporter="U1", source="test")


def test_ticket_keys_count_per_workspace(engine: Engine) -> None:
    with session_scope(engine) as session:
        keys = [create_ticket(session, new("T1")).key, create_ticket(session, new("T1")).key, create_ticket(session, new("T2")).key]
    assert keys == ["HC-1", "HC-2", "HC-1"]


def test_concurrent_ticket_numbers_are_unique(engine: Engine) -> None:
    numbers: list[int] = []
    lock = threading.Lock()

    def file_some() -> None:
        for _ in range(5):
            with session_scope(engine) as session:
                ticket = create_ticket(session, new())
                number = ticket.number
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=file_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 21))


def test_times_are_timezone_aware_utc_and_history_is_kept(engine: Engine) -> None:
    with session_scope(engine) as session:
        ticket = create_ticket(session, new())
        change(session, ticket, actor="U9", severity="critical", status="triaged")
    with session_scope(engine) as session:
        stored = get_ticket(session, team_id="T1", key="hc-1")
        assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
        events = list(session.exec(select(TicketEvent).where(TicketEvent.ticket_id == stored.id).order_by(TicketEvent.id)).scalars())
        assert [(e.kind, e.field_name, e.old_value, e.new_value) for e in events] == [
            ("created", None, None, None),
            ("changed", "severity", "high", "critical"),
            ("changed", "status", "new", "triaged"),
        ]


def test_export_json_and_csv(engine: Engine, database_url: str) -> None:
    with session_scope(engine) as session:
        ticket = create_ticket(session, new(title="Checkout, \"quoted\" and broken"))
        ticket.affected_users = ["U1", "U2"]
        ticket.missing = ["steps"]
    settings = Settings(database_url=database_url)
    out = io.StringIO()
    assert export_tickets(settings=settings, fmt="json", statuses=None, since=None, out=out) == 1
    record = json.loads(out.getvalue())["tickets"][0]
    assert record["key"] == "HC-1" and record["affected_users"] == ["U1", "U2"] and record["missing"] == ["steps"]
    assert record["created_at"].endswith("+00:00")
    expected_fields = {
        "key", "title", "description", "category", "severity", "status", "reporter", "assignee", "channel", "message_ts",
        "thread_ts", "permalink", "steps", "expected", "actual", "environment", "missing", "duplicate_of", "affected_users",
        "created_at", "updated_at", "first_response_at", "resolved_at", "resolution",
    }
    assert set(record) == expected_fields
    out = io.StringIO()
    export_tickets(settings=settings, fmt="csv", statuses=["new"], since="2000-01-01", out=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("key,title,") and lines[1].startswith('HC-1,"Checkout, ""quoted"" and broken"')
    out = io.StringIO()
    assert export_tickets(settings=settings, fmt="json", statuses=["resolved"], since=None, out=out) == 0


def test_two_workers_never_lease_the_same_outbox_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n in range(10):
            outbox.enqueue(session, method="chat.postMessage", params={"channel": f"C{n}", "text": str(n)})
    leased: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def lease(owner: str) -> None:
        barrier.wait()
        with session_scope(engine) as session:
            rows = queue.claim(session, OutboxMessage, owner=owner, limit=6, lease=timedelta(seconds=60))
            leased[owner] = [r.id for r in rows if r.id is not None]

    threads = [threading.Thread(target=lease, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(leased["a"]) & set(leased["b"])
    assert len(leased["a"]) + len(leased["b"]) == 10


def test_an_expired_lease_is_taken_over(engine: Engine) -> None:
    with session_scope(engine) as session:
        outbox.enqueue(session, method="reactions.add", params={"channel": "C1", "timestamp": "1.0", "name": "ticket"})
    with session_scope(engine) as session:
        first = queue.claim(session, OutboxMessage, owner="dead", limit=5, lease=timedelta(seconds=-1))
    with session_scope(engine) as session:
        second = queue.claim(session, OutboxMessage, owner="alive", limit=5, lease=timedelta(seconds=60))
        assert [r.id for r in second] == [r.id for r in first]
        assert queue.finish(session, second[0], owner="alive")
    with session_scope(engine) as session:
        assert not queue.finish(session, first[0], owner="dead"), "a worker whose lease was taken over cannot finish"


def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_a_row_rate_limited_holds_back_its_lane(engine: Engine) -> None:
    """A 429 keeps its place (keep_lane): Slack throttles the channel, and the follow-up must not
    overtake the card it follows."""
    with session_scope(engine) as session:
        first = outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "card"})
        outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "follow-up"})
        outbox.enqueue(session, method="chat.postMessage", params={"channel": "C2", "text": "other channel"})
    with session_scope(engine) as session:
        leased = queue.claim(session, OutboxMessage, owner="w", limit=10, lease=timedelta(seconds=60))
        assert sorted(r.params["text"] for r in leased) == ["card", "other channel"], "one row per lane at a time"
        queue.retry_later(session, leased[0] if leased[0].id == first.id else leased[1], owner="w", delay=timedelta(seconds=30), error="429", max_attempts=5, keep_lane=True)
    with session_scope(engine) as session:
        assert queue.claim(session, OutboxMessage, owner="w", limit=10, lease=timedelta(seconds=60)) == [], "the follow-up waits for the card"


def test_a_row_that_failed_is_retried_beside_its_lane(engine: Engine) -> None:
    """Any other failure takes the row out of its lane (issue 13): the rows behind it go on, and
    it comes back after its backoff on its own."""
    with session_scope(engine) as session:
        first = outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "doomed"})
        outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "next"})
    with session_scope(engine) as session:
        [leased] = queue.claim(session, OutboxMessage, owner="w", limit=10, lease=timedelta(seconds=60))
        assert leased.id == first.id
        assert queue.retry_later(session, leased, owner="w", delay=timedelta(seconds=30), error="server error 503", max_attempts=5) == "pending"
    with session_scope(engine) as session:
        [behind] = queue.claim(session, OutboxMessage, owner="w", limit=10, lease=timedelta(seconds=60))
        assert behind.params["text"] == "next", "the lane moved on"
        queue.finish(session, behind, owner="w")
    later = utcnow() + timedelta(seconds=31)
    with session_scope(engine) as session:
        [again] = queue.claim(session, OutboxMessage, owner="w", limit=10, lease=timedelta(seconds=60), now=later)
        assert (again.id, again.lane, again.attempts) == (first.id, None, 2)
        assert queue.retry_later(session, again, owner="w", delay=timedelta(seconds=1), error="server error 503", max_attempts=2) == "failed"
    with session_scope(engine) as session:
        parked = session.get(OutboxMessage, first.id)
        assert parked is not None and (parked.status, parked.error) == ("failed", "server error 503")


def test_a_row_whose_worker_died_goes_on_beside_its_lane(engine: Engine) -> None:
    """A lease that ran out means an attempt ended without an outcome (maybe the row killed its
    worker): the row taken over leaves its lane, so it cannot block the lane again and again."""
    with session_scope(engine) as session:
        first = outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "in flight at the crash"})
        outbox.enqueue(session, method="chat.postMessage", params={"channel": "C1", "text": "next"})
    with session_scope(engine) as session:
        [leased] = queue.claim(session, OutboxMessage, owner="dead", limit=10, lease=timedelta(seconds=60))
        assert leased.id == first.id
    later = utcnow() + timedelta(seconds=61)
    with session_scope(engine) as session:
        [taken] = queue.claim(session, OutboxMessage, owner="alive", limit=10, lease=timedelta(seconds=60), now=later)
        assert (taken.id, taken.lane, taken.attempts) == (first.id, None, 2)
    with session_scope(engine) as session:
        [behind] = queue.claim(session, OutboxMessage, owner="alive", limit=10, lease=timedelta(seconds=60), now=later)
        assert behind.params["text"] == "next", "the lane goes on while the taken-over row is worked beside it"
