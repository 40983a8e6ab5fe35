"""Before the bot takes requests: learn who it is and who is who, so no request has to ask Slack.

Bolt's single-workspace authorization calls `auth.test` on the first request it sees and keeps the
answer; a warm-up request dispatched here, before the HTTP server listens, pays that call instead.
The triage user group and the people list are loaded into the directory cache (handlers.directory)
the same way. Each is bounded: a Slack that does not answer in time only means the first requests
answer from an empty cache (optimistically) and the refresh carries on in the background.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.runtime import log
from handlers.directory import Directory

WARM_UP = "hc_warm_up"  # the type of the warm-up request; nothing outside this module sends it
TIMEOUT_SECONDS = 15.0


def register(app: App) -> None:
    def stop_here(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        if body.get("type") == WARM_UP:
            return BoltResponse(status=200, body="")  # authorized (and so cached): nothing else to do
        return next()

    app.use(stop_here)


def warm_up(app: App, *, directory: Directory, timeout: float = TIMEOUT_SECONDS) -> None:
    jobs: dict[str, Callable[[], object]] = {
        "auth.test": lambda: app.dispatch(BoltRequest(body={"type": WARM_UP}, mode="socket_mode")),
        "usergroups.users.list": directory.refresh_group,
        "users.list": directory.refresh_users,
    }
    threads = [threading.Thread(target=_quietly, args=(name, job), name=f"warm-up-{name}", daemon=True) for name, job in jobs.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    late = [t.name for t in threads if t.is_alive()]
    if late:
        log.warmup_late(", ".join(late))


def _quietly(name: str, job: Callable[[], object]) -> None:
    try:
        job()
    except Exception as exc:  # noqa: BLE001 - the cache refreshes itself later
        log.warmup_failed(name, exc)
