"""The SQLite spool in front of the inbox (bot.delivery.inbox_spool): what an acknowledged event does when
the receiving process dies before the event reached the inbox table."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.delivery import inbox_writer
from bot.delivery.inbox_spool import InboxSpool, spool_path
from bot.delivery.inbox_writer import InboxWriter
from models.db import make_engine, upgrade
from models.tables import SlackEvent, Ticket
from models.types import utcnow
from tests.conftest import card_posts, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_requests import new_event_id, new_ts


def report_event(text: str, *, channel: str = "C100", user: str = "U300") -> dict[str, object]:
    ts = new_ts()
    return {
        "type": "event_callback", "team_id": "T001", "api_app_id": "A001", "event_id": new_event_id(), "event_time": int(time.time()),
        "event": {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel"},
    }


def test_events_left_in_the_spool_by_a_dead_receiver_are_handled_once_at_the_next_start(fake_slack: FakeSlack, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hypercare.db'}"
    engine = make_engine(url)
    upgrade(engine)
    path = spool_path(engine)
    assert path is not None
    # What a receiver killed after its acknowledgements and before its mover ran leaves behind:
    # committed spool rows (the same writes InboxWriter makes), and nothing in the inbox table.
    left = InboxSpool(path)
    first, second = report_event("Checkout fails with error 502 on Safari"), report_event("Search returns nothing for invoices on staging")
    assert left.add([(first, None, utcnow()), (second, None, utcnow())]) == [True, True]
    assert left.add([(first, "1", utcnow())]) == [False]  # Slack's retry of the first, also acknowledged
    left.close()
    engine.dispose()

    bot = start_bot(fake=fake_slack, database_url=url)
    try:
        bot.settle()
        with Session(bot.engine) as session:
            assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 2
            stored = session.get(SlackEvent, str(first["event_id"]))
            assert stored is not None and stored.status == "done" and stored.retries_seen == 1
        assert len(card_posts(bot.fake)) == 2
        assert InboxSpool(path).count() == 0
    finally:
        stop_bot(bot)

    again = start_bot(fake=fake_slack, database_url=url)  # a second restart repeats nothing
    try:
        again.settle()
        assert len(card_posts(again.fake)) == 2
    finally:
        stop_bot(again)


def test_the_spool_is_sqlites_default_and_an_option_elsewhere(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    try:
        path = spool_path(engine)
        if engine.dialect.name == "sqlite":
            assert path is not None and path.name.endswith(".inbox-spool")
        else:
            assert path is None  # by default events go straight into PostgreSQL's inbox table
        assert spool_path(engine, configured=str(tmp_path / "receiver.spool")) == tmp_path / "receiver.spool"
    finally:
        engine.dispose()


def test_a_configured_spool_stands_in_front_of_either_database(fake_slack: FakeSlack, database_url: str, tmp_path: Path) -> None:
    """HYPERCARE_INBOX_SPOOL: acknowledged events wait in that file, survive a dead receiver, and
    reach the inbox table of SQLite or PostgreSQL once."""
    spool = tmp_path / "receiver.inbox-spool"
    left = InboxSpool(spool)  # what a receiver killed before its mover ran leaves behind
    leftover = report_event("Checkout fails with error 502 on Safari")
    assert left.add([(leftover, None, utcnow())]) == [True]
    left.close()
    bot = start_bot(fake=fake_slack, database_url=database_url, inbox_spool=str(spool))
    try:
        live = bot.slack.message(channel="C101", user="U301", text="Search returns nothing for invoices on staging")
        assert live.status == 200
        bot.settle()
        with Session(bot.engine) as session:
            handled = {e.event_id: e.status for e in session.execute(select(SlackEvent)).scalars()}
            assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 2
        assert handled == {str(leftover["event_id"]): "done", str(live.event_id): "done"}
        assert len(card_posts(bot.fake)) == 2
        assert InboxSpool(spool).count() == 0
    finally:
        stop_bot(bot)


def test_the_group_commit_writer_gives_its_connection_back_when_stopped(database_url: str) -> None:
    from bot.delivery.inbox_writer import InboxWriter

    engine = make_engine(database_url)
    upgrade(engine)
    writer = InboxWriter(engine, use_spool=False)  # the PostgreSQL path, on either database
    try:
        event = report_event("Checkout fails with error 502 on Safari")
        assert writer.store(event) is True and writer.store(event, retry_num="1") is False
        assert engine.pool.checkedout() == 1, "the writer keeps its own connection between batches"  # type: ignore[attr-defined]
        writer.stop()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        with Session(engine) as session:
            stored = session.get(SlackEvent, str(event["event_id"]))
            assert stored is not None and stored.retries_seen == 1
        assert writer.store(report_event("Search is slow")) is True, "a store after stop starts the writer again"
    finally:
        writer.stop()
        engine.dispose()


def _inbox_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(SlackEvent)).scalar_one())


@contextmanager
def spooling_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, quiet: float, max_delay: float) -> Iterator[tuple[InboxWriter, Engine]]:
    """An InboxWriter on a new SQLite file with the mover's burst limits set (the quiet gap is
    widened in these tests so a slow CI machine can't fake a pause)."""
    monkeypatch.setattr(inbox_writer, "MOVE_QUIET", quiet)
    monkeypatch.setattr(inbox_writer, "MOVE_MAX_DELAY", max_delay)
    engine = make_engine(f"sqlite:///{tmp_path / 'hypercare.db'}")
    upgrade(engine)
    writer = InboxWriter(engine)
    try:
        yield writer, engine
    finally:
        writer.stop()
        engine.dispose()


def test_the_mover_lets_a_burst_pass_then_moves_it_in_one_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While events keep arriving the mover waits (acknowledgements first); after a pause one
    batch moves them all."""
    with spooling_writer(tmp_path, monkeypatch, quiet=0.25, max_delay=30.0) as (writer, engine):
        burst_ends, stored = time.monotonic() + 1.5, 0
        while time.monotonic() < burst_ends:
            assert writer.store(report_event(f"Checkout fails with error 502, report {stored}"))
            stored += 1
            time.sleep(0.02)
            assert _inbox_count(engine) == 0, "moved in the middle of the burst"
        deadline = time.monotonic() + 10
        while _inbox_count(engine) < stored and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _inbox_count(engine) == stored > 20


def test_a_burst_that_never_pauses_is_moved_after_the_longest_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with spooling_writer(tmp_path, monkeypatch, quiet=0.25, max_delay=0.5) as (writer, engine):
        started, moved_after = time.monotonic(), None
        while time.monotonic() - started < 5 and moved_after is None:
            writer.store(report_event("Search returns nothing for invoices"))
            time.sleep(0.02)
            if _inbox_count(engine):
                moved_after = time.monotonic() - started
        assert moved_after is not None and moved_after < 4, "events arriving every 20 ms still get moved"
