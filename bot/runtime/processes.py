"""Worker processes for `hypercare run`, and their supervisor.

The process that talks to Slack only stores and acknowledges; the queues are worked in a separate
process (or several), so a burst of reports never makes an acknowledgement wait for the GIL
behind triage and posting. The workers find stored rows by polling the database (every
`poll_interval`); they exit when the process that started them is gone, even after a kill -9.

A worker process that dies (a crash, the OOM killer, a kill) is restarted by the Supervisor, a
thread of the receiving process: at once the first time, then after a backoff while it keeps
dying young (so a worker that cannot start does not spin). What it was working on is picked up
when its lease runs out. /healthz reports each worker's liveness and readiness (bot.runtime.health):
a worker is ready once its queue workers run, which for a fresh interpreter importing the app
takes a few seconds after it is alive.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

from bot.runtime import log
from bot.runtime.health import ProcessStatus
from bot.runtime.settings import Settings

logger = logging.getLogger("hypercare.processes")
CHECK_SECONDS = 0.5
MAX_RESTART_DELAY = 30.0
STABLE_SECONDS = 60.0  # a worker that ran this long before dying is restarted at once


def receiver_settings(settings: Settings) -> Settings:
    """The acknowledging process: no queue workers and no scheduler of its own."""
    return settings.replace(workers=0, scheduler_enabled=False)


def _spawn(settings: Settings, *, index: int, log_level: int) -> tuple[BaseProcess, Event]:
    """A worker process, and the event it sets once its queue workers run."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads or sockets
    worker_settings = settings.replace(poll_interval=min(settings.poll_interval, 0.1))
    ready = context.Event()
    process = context.Process(
        target=work, kwargs={"settings": worker_settings, "parent": os.getpid(), "log_level": log_level,
                             "with_scheduler": index == 0 and settings.scheduler_enabled, "ready": ready},
        name=f"hypercare-worker-{index}", daemon=True,
    )
    process.start()
    log.worker_process_started(process.name or "", process.pid)
    return process, ready


@dataclass
class _Slot:
    index: int
    process: BaseProcess
    ready: Event
    started: float
    restarts: int = 0
    failures: int = 0          # deaths in a row, each soon after a start
    restart_at: float | None = None


class Supervisor:
    """Starts `settings.worker_processes` workers and keeps them running."""

    def __init__(self, settings: Settings, *, log_level: int) -> None:
        self._settings = settings
        self._log_level = log_level
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Supervisor:
        now = time.monotonic()
        with self._lock:
            self._slots = []
            for index in range(self._settings.worker_processes):
                process, ready = _spawn(self._settings, index=index, log_level=self._log_level)
                self._slots.append(_Slot(index=index, process=process, ready=ready, started=now))
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            for slot in self._slots:
                if slot.process.is_alive():
                    slot.process.terminate()
            for slot in self._slots:
                slot.process.join(timeout=10)

    def status(self) -> list[ProcessStatus]:
        with self._lock:
            return [ProcessStatus(name=s.process.name or f"hypercare-worker-{s.index}", pid=s.process.pid,
                                  alive=s.process.is_alive(), ready=s.ready.is_set(), restarts=s.restarts) for s in self._slots]

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            try:
                self.check()
            except Exception as exc:  # the supervisor must outlive anything a restart throws
                log.worker_crashed("worker-supervisor", exc)

    def check(self, *, now: float | None = None) -> None:
        """Schedule a restart for each dead worker; restart those whose time has come."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for slot in self._slots:
                if slot.process.is_alive() or self._stop.is_set():
                    continue
                if slot.restart_at is None:
                    slot.failures = slot.failures + 1 if now - slot.started < STABLE_SECONDS else 1
                    delay = 0.0 if slot.failures == 1 else min(MAX_RESTART_DELAY, 2.0 ** (slot.failures - 1))
                    slot.restart_at = now + delay
                    log.worker_process_died(slot.process.name or "", slot.process.pid, slot.process.exitcode, delay)
                if now >= slot.restart_at:
                    slot.process, slot.ready = _spawn(self._settings, index=slot.index, log_level=self._log_level)
                    slot.started, slot.restart_at = now, None
                    slot.restarts += 1


def work(*, settings: Settings, parent: int, log_level: int, with_scheduler: bool, ready: Event | None = None) -> None:
    from bot.runtime.app import create_hypercare

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    # Acknowledgements first: under a burst the receiver gets the CPU, the work follows.
    os.nice(10)
    hypercare = create_hypercare(settings=settings.replace(scheduler_enabled=with_scheduler), migrate=False)
    hypercare.start(receives=False)
    if ready is not None:
        ready.set()  # /healthz of the receiver answers 200 from now on
    stop = threading.Event()
    code = 0
    try:
        while not stop.wait(0.5):
            if os.getppid() != parent:  # orphaned: the receiver died, and a restart brings new workers
                break
            if not (hypercare.inbox.alive() and hypercare.outbox.alive()):
                # A worker loop died or wedged: exit, and let the supervisor start a fresh process.
                logger.error("worker process %s: a queue worker stopped; exiting to be restarted", os.getpid())
                code = 3
                break
    except KeyboardInterrupt:
        pass
    finally:
        hypercare.stop()
        logger.info("worker process %s stopped", os.getpid())
    if code:
        os._exit(code)
