"""Work that asks Slack after a request is acknowledged: never before the ack, never inside a
database transaction (docs/acknowledgements.md).

A listener only registers a job in the request's context (`later`); the app (bot.runtime.app) hands the
jobs to this runner once the request's transaction has committed, while the HTTP answer goes back
to Slack. A job that writes opens its own short transaction after its Web API calls.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk.webhook import WebhookClient

from bot.runtime import log
from bot.tickets.blocks import ephemeral


LATER = "hc_after_commit"  # jobs run only when the request's transaction committed
ALWAYS = "hc_after_ack"  # jobs run whatever happened (e.g. the apology for an unexpected error)

Job = Callable[[], None]


def later(context: MutableMapping[str, Any], job: Job, *, always: bool = False) -> None:
    """Run `job` after this request is acknowledged (and its transaction committed, unless `always`)."""
    context.setdefault(ALWAYS if always else LATER, []).append(job)


def jobs_of(context: MutableMapping[str, Any], *, committed: bool) -> list[Job]:
    found: list[Job] = list(context.get(ALWAYS) or [])
    if committed:
        found = list(context.get(LATER) or []) + found
    return found


def say(response_url: str | None, text: str, **extra: Any) -> None:
    """An ephemeral message by response_url (valid 30 minutes, five times); nothing without one."""
    if not response_url:
        return
    answer = WebhookClient(response_url).send_dict({**ephemeral(text), "replace_original": False, **extra})
    if answer.status_code >= 400:
        log.after_ack_failed("a response_url message", f"HTTP {answer.status_code}")


class AfterAck:
    """A small thread pool for after-acknowledgement jobs; `wait_idle` lets tests and the console
    wait for them. A job that fails is logged and never retried (what it does is a courtesy the user
    can repeat: open a form, say where a ticket went)."""

    def __init__(self, *, threads: int = 32) -> None:  # jobs wait on Slack, not on the CPU
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self.on_done: Callable[[], None] = lambda: None  # bot.runtime.app: wake the outbox
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, jobs: list[Job]) -> None:
        for job in jobs:
            with self._idle:
                self._pending += 1
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="after-ack")
                pool = self._pool
            try:
                pool.submit(self._run, job)
            except RuntimeError:  # shutting down: the job is a courtesy, dropping it loses nothing stored
                self._finished()

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - a job must never kill the pool thread
            log.after_ack_job_crashed(getattr(job, "__qualname__", str(job)))
        finally:
            self._finished()
            self.on_done()  # a job may have written outbox rows

    def _finished(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, *, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending <= 0, timeout=timeout)

    def stop(self) -> None:
        with self._idle:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=False)


class Background:
    """Each named refresh (a cache's, asked of Slack) at most once at a time, on its own thread:
    started from the request path, it never delays the request nor runs inside its transaction."""

    def __init__(self, *, what: str) -> None:
        self._what = what
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def run(self, name: str, job: Callable[[], object]) -> None:
        with self._lock:
            if name in self._running:
                return
            self._running.add(name)

        def run() -> None:
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - the cache keeps what it knew, and asks again later
                log.after_ack_failed(f"refreshing {self._what} {name}", exc)
            finally:
                with self._lock:
                    self._running.discard(name)

        threading.Thread(target=run, name=f"{self._what}-{name}", daemon=True).start()
