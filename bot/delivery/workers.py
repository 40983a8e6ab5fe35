"""A bounded pool that works through a durable queue table, one row at a time per lane.

The queue lives in the database (models.queue), so what was stored before Slack got its
acknowledgement survives a crash: a restarted process, or another replica, picks the rows up when
their lease runs out. Within a lane (a Slack channel) rows run in order and, when `pace` says so,
no faster than one per `pace` seconds, which keeps posts inside Slack's ~1 message/second/channel.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.runtime import log
from models.db import READ_ONLY, session_scope
from models.queue import anything_due, claim, renew
from models.tables import OutboxMessage, SlackEvent

Row = TypeVar("Row", SlackEvent, OutboxMessage)
MIN_CLAIM_GAP = 0.02
# The loop passes at least every poll interval; one that has not for this long is wedged (a
# claim may wait up to SQLite's 30 s busy timeout, so well beyond that).
LOOP_STALL_SECONDS = 90.0


class LaneWorker(Generic[Row]):
    def __init__(
        self,
        *,
        name: str,
        engine: Engine,
        model: type[Row],
        handle: Callable[[Row, str], None],
        threads: int = 4,
        lease: timedelta = timedelta(seconds=120),
        poll_interval: float = 0.5,
        pace: Callable[[Row], float] = lambda _row: 0.0,
    ) -> None:
        self.name = name
        self.owner = f"{name}-{uuid.uuid4().hex[:10]}"
        self._engine = engine
        self._model = model
        self._handle = handle
        # threads=0 makes a receive-only process: rows are stored, another process works them.
        self._threads = max(0, threads)
        self._lease = lease
        self._poll = poll_interval
        self._pace = pace
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._queued: dict[str, deque[Row]] = {}
        self._in_flight: set[str] = set()
        self._free_at: dict[str, float] = {}
        self._last_claim = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._loop: threading.Thread | None = None
        self._beat = time.monotonic()  # when the loop last went round (liveness for /healthz)
        self._renewed = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._loop is not None or self._threads == 0:
            return
        self._stop.clear()
        self._beat = time.monotonic()
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=self.name)
        self._loop = threading.Thread(target=self._run, name=f"{self.name}-loop", daemon=True)
        self._loop.start()

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout=10)
            self._loop = None
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    @property
    def works_here(self) -> bool:
        """False in a receive-only process (threads=0)."""
        return self._threads > 0

    def alive(self) -> bool:
        """Started, its loop thread running, and the loop not wedged."""
        loop = self._loop
        return loop is not None and loop.is_alive() and time.monotonic() - self._beat < LOOP_STALL_SECONDS

    def wake(self) -> None:
        """Something was just enqueued: look now rather than at the next poll."""
        self._wake.set()

    def wait_idle(self, *, timeout: float = 10.0) -> bool:
        """True once nothing is pending in the table (due or backing off) and nothing runs here."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._in_flight) or any(self._queued.values())
            if not busy and self._unfinished_count() == 0:
                return True
            self._wake.set()
            time.sleep(0.02)
        return False

    # -- the loop ----------------------------------------------------------------------------
    def _unfinished_count(self) -> int:
        model = self._model
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            unfinished = model.status.in_(("pending", "working"))  # type: ignore[attr-defined]
            return int(connection.execute(select(func.count()).select_from(model).where(unfinished)).scalar_one())

    def _run(self) -> None:
        while not self._stop.is_set():
            self._beat = time.monotonic()
            try:
                self._renew_leases()
                claim_gap = self._claim_more()
                wait = min(self._dispatch_ready(), claim_gap)
            except Exception as exc:  # the loop must outlive a database hiccup
                log.worker_crashed(self.name, exc)
                wait = self._poll
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def _renew_leases(self) -> None:
        """Every third of a lease, push out the lease of what this process holds: rows wait in the
        local queue behind their lane, and one slow delivery must not let another replica take
        them over and do them a second time."""
        if time.monotonic() - self._renewed < self._lease.total_seconds() / 3:
            return
        self._renewed = time.monotonic()
        with self._lock:
            holding = bool(self._in_flight) or any(self._queued.values())
        if holding:
            with session_scope(self._engine) as session:
                renew(session, self._model, owner=self.owner, lease=self._lease)

    def _claim_more(self) -> float:
        """Lease more rows if there is room; returns how soon it may look again."""
        since = time.monotonic() - self._last_claim
        if since < MIN_CLAIM_GAP:
            # Wake-ups come after every delivery; claiming at most every 20 ms batches them, so the
            # workers take SQLite's write lock less often (the acknowledgements need it too).
            return MIN_CLAIM_GAP - since
        self._last_claim = time.monotonic()
        with self._lock:
            queued = sum(len(q) for q in self._queued.values())
            # A small prefetch: rows leased here wait for this process only, so hoarding them would
            # keep another replica idle while they queue behind a paced lane.
            capacity = self._threads * 2 - queued - len(self._in_flight)
            now = time.monotonic()
            busy = frozenset(
                lane
                for lane in set(self._queued) | self._in_flight | set(self._free_at)
                if self._queued.get(lane) or lane in self._in_flight or self._free_at.get(lane, 0) > now
            )
        if capacity <= 0 or not anything_due(self._engine, self._model):
            return self._poll
        with session_scope(self._engine) as session:
            rows = claim(session, self._model, owner=self.owner, limit=capacity, lease=self._lease, exclude_lanes=busy)
        with self._lock:
            for row in rows:
                lane = row.lane or f"_row:{id(row)}"
                self._queued.setdefault(lane, deque()).append(row)
        return self._poll

    def _dispatch_ready(self) -> float:
        """Start every lane that may go now; return how long until the next one may."""
        next_wait = self._poll
        now = time.monotonic()
        with self._lock:
            for lane, rows in list(self._queued.items()):
                if not rows:
                    del self._queued[lane]
                    continue
                if lane in self._in_flight:
                    continue
                free_at = self._free_at.get(lane, 0.0)
                if free_at > now:
                    next_wait = min(next_wait, free_at - now)
                    continue
                if len(self._in_flight) >= self._threads:
                    break
                row = rows.popleft()
                self._in_flight.add(lane)
                assert self._pool is not None
                self._pool.submit(self._work, lane, row)
            for lane in [lane for lane, at in self._free_at.items() if at <= now]:
                del self._free_at[lane]
        return max(0.0, next_wait)

    def _work(self, lane: str, row: Row) -> None:
        try:
            self._handle(row, self.owner)
        except Exception as exc:  # handle() records its own failures; this is the last resort
            log.worker_crashed(self.name, exc)
        finally:
            with self._lock:
                self._in_flight.discard(lane)
                pace = self._pace(row)
                if pace > 0:
                    self._free_at[lane] = time.monotonic() + pace
            self._wake.set()
