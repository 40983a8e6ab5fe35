"""GET /healthz: is the bot able to do its work, and is the work getting done?

Answers 200 with {"ok": true, …} or 503 with {"ok": false, "problems": […]} when
- the database does not answer (the exception goes to the log, under the error id shown);
- a worker that should run is not alive: a worker process of `hypercare run` (being restarted by
  its supervisor) or, where this process works the queues itself, its worker threads;
- a worker process is alive but still starting (its queue workers do not run yet);
- work is stuck: the longest-waiting workable inbox event or outbox message has waited longer
  than HYPERCARE_HEALTH_STUCK_SECONDS.
`queues` gives each queue's counts and age; `details` lists the last parked items (failed for
good, out of their lane) with the kind of error — never exception text, which is in the log.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.runtime import log
from models import queue
from models.tables import OutboxMessage, SlackEvent

if TYPE_CHECKING:
    from bot.runtime.app import Hypercare

PUBLIC_ERROR_CHARS = 80


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    alive: bool
    ready: bool  # its queue workers run (a fresh process is alive seconds before)
    restarts: int


class WorkerProcesses(Protocol):
    def status(self) -> list[ProcessStatus]: ...


def public_reason(error: str) -> str:
    """The kind of an error, fit for a public answer: "server error 503", "channel_not_found",
    "unexpected shape (event.user is an object)", or an exception's class name — not its message."""
    head = error.split(": ", 1)[0].strip()
    return head[:PUBLIC_ERROR_CHARS] or "unknown"


def health_answer(hypercare: Hypercare, *, processes: WorkerProcesses | None = None) -> tuple[str, bytes]:
    ok, body = check(hypercare, processes=processes)
    return ("200 OK" if ok else "503 Service Unavailable"), json.dumps(body).encode()


def check(hypercare: Hypercare, *, processes: WorkerProcesses | None = None) -> tuple[bool, dict[str, Any]]:
    problems: list[str] = []
    body: dict[str, Any] = {"database": "ok"}
    workers: dict[str, Any] = {}
    if processes is not None:
        status = processes.status()
        workers["processes"] = [asdict(s) for s in status]
        problems += [f"worker process {s.name} is not running (restarting)" for s in status if not s.alive]
        problems += [f"worker process {s.name} is starting" for s in status if s.alive and not s.ready]
    threads = {w.name: w.alive() for w in (hypercare.inbox, hypercare.outbox) if w.works_here}
    if threads:
        workers["threads"] = threads
        problems += [f"the {name} worker of this process is not running" for name, alive in threads.items() if not alive]
    if not threads and processes is None:
        workers["here"] = "none (this process only receives; another works the queues)"
    body["workers"] = workers
    try:
        stats = {"inbox": queue.stats(hypercare.engine, SlackEvent), "outbox": queue.stats(hypercare.engine, OutboxMessage)}
    except Exception as exc:  # health must answer, not raise; the details go to the log only
        error_id = uuid.uuid4().hex[:12]
        log.health_check_failed(error_id, exc)
        return False, {"ok": False, "database": "unavailable", "error_id": error_id, "workers": workers,
                       "problems": ["the database does not answer", *problems]}
    stuck_after = hypercare.settings.health_stuck_seconds
    body["queues"] = {}
    body["details"] = {}
    for name, s in stats.items():
        body["queues"][name] = {"due": s.due, "working": s.working, "waiting": s.waiting, "parked": s.parked, "oldest_due_seconds": s.oldest_due_seconds}
        body["details"][name] = {"parked": [
            {"id": int(p.id) if p.id.isdigit() else p.id, "error": public_reason(p.error), "attempts": p.attempts,
             "at": p.at.isoformat() if p.at else None}
            for p in s.recent_parked
        ]}
        if s.oldest_due_seconds > stuck_after:
            problems.append(f"{name} work is stuck: the oldest item has waited {s.oldest_due_seconds:.0f}s (limit {stuck_after:.0f}s)")
    body["problems"] = problems
    return not problems, {"ok": not problems, **body}
