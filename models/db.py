"""The engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy timeout does the waiting
    fcntl = None  # type: ignore[assignment]

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SIZE_LIMIT = 0  # bytes: on restart the -wal file is truncated to what the new transaction wrote
# Execution option for a connection that only reads: on SQLite it takes no write lock.
READ_ONLY = "hypercare_read_only"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste: postgres:// and postgresql:// both mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=kwargs.pop("pool_size", 20),
            max_overflow=kwargs.pop("max_overflow", 10),
            **kwargs,
        )
        lock_path = None if not parsed.database or parsed.database == ":memory:" else Path(parsed.database).expanduser()
        _configure_sqlite(engine, WriterLock(lock_path))
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=kwargs.pop("pool_size", 10),
        max_overflow=kwargs.pop("max_overflow", 20),
        **kwargs,
    )


class WriterLock:
    """One SQLite writer at a time, handed over at once rather than found by polling.

    Left to itself, a waiting SQLite writer sleeps and polls (1, 2, 5, 10, … up to 100 ms), which
    under load turns a 0.4 ms insert into a 100 ms one. Threads of this process queue on an RLock;
    processes (the receiver and its worker processes) queue on an flock of `<db>.lock`, which the
    kernel hands to the next waiter the moment it is released. SQLite's busy timeout stays as the
    backstop for anything else that opens the file.
    """

    def __init__(self, path: Path | None) -> None:
        self._threads = threading.RLock()
        self._path = None if path is None or fcntl is None else path.with_name(path.name + ".lock")
        self._local = threading.local()

    def acquire(self) -> None:
        self._threads.acquire()
        depth = getattr(self._local, "depth", 0)
        if depth == 0 and self._path is not None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                self._threads.release()
                raise
            self._local.fd = fd
        self._local.depth = depth + 1

    def release(self) -> None:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            return  # a rollback with no transaction begun (SQLAlchemy resets pooled connections)
        self._local.depth = depth - 1
        if depth == 1 and getattr(self._local, "fd", None) is not None:
            os.close(self._local.fd)  # closing the descriptor drops its flock
            self._local.fd = None
        self._threads.release()


def _configure_sqlite(engine: Engine, writer: WriterLock) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the scheduler read while a request thread writes; the busy timeout makes writers
        # wait their turn instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # No checkpoint (and its fsync) inside a request's commit: WalCheckpointer does it aside.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (and the old copy of a row rewritten, e.g. an event's body once redacted)
        # are overwritten with zeros, not left readable in free space (docs/delivery.md). The log
        # is cut back to this size when it restarts, so old page copies do not linger there.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # WAL readers need no lock: they read a snapshot
            return
        writer.acquire()
        try:
            # IMMEDIATE takes the write lock up front: a deferred transaction that later writes can
            # hit SQLITE_BUSY without waiting when another writer got there first.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        if not conn.get_execution_options().get(READ_ONLY):
            writer.release()


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database every few seconds, off the
    request path (the automatic checkpoint would otherwise fsync inside some unlucky commit)."""

    def __init__(self, engine: Engine, *, interval: float = 2.0) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._engine.dialect.name != "sqlite" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self) -> None:
        # A raw connection in autocommit: no BEGIN, so no writer lock is taken. PASSIVE never
        # blocks writers; what a reader still needs stays for the next round.
        connection = self._engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.checkpoint()
            except Exception:  # a busy database now is fine: the next round catches up
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(url_or_engine: str | Engine) -> None:
    """Bring the schema to the newest migration (what `hypercare db upgrade` runs)."""
    from models.migrate import run_upgrade  # Alembic loads only when a schema is upgraded

    if isinstance(url_or_engine, Engine):
        run_upgrade(url_or_engine)
        return
    engine = make_engine(normalise_url(url_or_engine))
    try:
        run_upgrade(engine)
    finally:
        engine.dispose()
