"""Periodic jobs (SLA checks, follow-up nudges, digests) on APScheduler 3.

Jobs are plain functions of `now`; they must be safe to run in several processes at once, which
they are by claiming their work in the database under a unique constraint before doing it. So the
scheduler never double-sends, also with two replicas, and tests run jobs with any `now` they like
through `run_all(now=...)` instead of sleeping.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from models.types import utcnow

logger = logging.getLogger("hypercare.scheduler")
Job = Callable[[datetime], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    seconds: float
    run: Job


class Scheduler:
    def __init__(self, *, enabled: bool = True, timezone: str = "UTC") -> None:
        self.enabled = enabled
        self._jobs: dict[str, Periodic] = {}
        self._scheduler = BackgroundScheduler(timezone=timezone, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})

    @property
    def apscheduler(self) -> BackgroundScheduler:
        """For jobs that need cron triggers of their own (e.g. digests)."""
        return self._scheduler

    def every(self, *, name: str, seconds: float, run: Job) -> None:
        self._jobs[name] = Periodic(name=name, seconds=seconds, run=run)
        if self._scheduler.running:
            self._add(self._jobs[name])

    def cron(self, *, name: str, trigger: BaseTrigger, run: Job) -> None:
        """Add, or replace by name, a job with a trigger of its own (a digest's CronTrigger in its
        IANA timezone, a one-off at start-up). Not run by run_all: tests call `run` themselves."""
        self._scheduler.add_job(self._safe, trigger, args=[Periodic(name=name, seconds=0, run=run)], id=name, replace_existing=True)

    def remove(self, name: str) -> None:
        if self._scheduler.get_job(name) is not None:
            self._scheduler.remove_job(name)

    def _add(self, job: Periodic) -> None:
        self._scheduler.add_job(self._safe, IntervalTrigger(seconds=job.seconds), args=[job], id=job.name, replace_existing=True)

    @staticmethod
    def _safe(job: Periodic) -> None:
        try:
            job.run(utcnow())
        except Exception:  # one failing run must not stop the next
            logger.exception("scheduled job %s failed", job.name)

    def run_all(self, *, now: datetime | None = None) -> None:
        """Run every periodic job once, now (tests and the console use this)."""
        for job in list(self._jobs.values()):
            job.run(now or utcnow())

    def start(self) -> None:
        if not self.enabled or self._scheduler.running:
            return
        for job in self._jobs.values():
            self._add(job)
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
