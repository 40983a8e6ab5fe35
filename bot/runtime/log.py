"""Log messages in one place, so operators can grep for them and wording stays consistent."""
from __future__ import annotations

import logging

logger = logging.getLogger("hypercare")


def event_stored(event_id: str, event_type: str) -> None:
    logger.debug("stored Slack event %s (%s) before acknowledging", event_id, event_type)


def event_retry_dropped(event_id: str, retry_num: str | None) -> None:
    logger.info("dropped Slack retry %s of event %s: already stored", retry_num or "?", event_id)


def event_failed(event_id: str, error: str, status: str) -> None:
    logger.warning("processing Slack event %s failed (%s): %s", event_id, status, error)


def outbox_delivered(outbox_id: int, method: str) -> None:
    logger.debug("outbox %s delivered (%s)", outbox_id, method)


def outbox_retry(outbox_id: int, method: str, error: str, delay: float) -> None:
    logger.info("outbox %s (%s) failed: %s; retrying in %.1fs", outbox_id, method, error, delay)


def outbox_failed(outbox_id: int, method: str, error: str) -> None:
    logger.warning("outbox %s (%s) failed permanently and is parked: %s", outbox_id, method, error)


def outbox_parked(outbox_id: int, method: str, error: str, attempts: int) -> None:
    logger.warning("outbox %s (%s) parked after %d attempts: %s", outbox_id, method, attempts, error)


def event_parked(event_id: str, error: str, attempts: int) -> None:
    logger.warning("Slack event %s parked after %d attempt(s): %s", event_id, attempts, error)


def worker_process_died(name: str, pid: int | None, exitcode: int | None, restart_in: float) -> None:
    logger.error("worker process %s (pid %s) exited with code %s; restarting it in %.0fs", name, pid, exitcode, restart_in)


def worker_process_started(name: str, pid: int | None) -> None:
    logger.info("worker process %s started (pid %s)", name, pid)


def health_check_failed(error_id: str, error: BaseException) -> None:
    logger.error("health check %s: the database did not answer: %s", error_id, error)


def retention_deleted(table: str, count: int, days: float) -> None:
    logger.info("retention: deleted %d %s row(s) finished more than %g days ago", count, table, days)


def outbox_found_after_crash(outbox_id: int, ts: str) -> None:
    logger.info("outbox %s was already posted before a restart (ts %s); not posting again", outbox_id, ts)


def worker_crashed(name: str, error: BaseException) -> None:
    logger.exception("worker %s hit an unexpected error: %s", name, error)


def listening(mode: str, where: str) -> None:
    logger.info("Hypercare is listening (%s) on %s", mode, where)


def server_stop_fallback(error: BaseException) -> None:
    logger.warning("HTTP server stop: could not wake its loop (%s); closing its sockets directly", error)


def tracker_found_after_crash(outbox_id: int, key: str) -> None:
    logger.info("outbox %s: the tracker already had the issue %s (an earlier attempt made it); recording it, not creating again", outbox_id, key)


def tracker_webhook_refused(tracker: str, why: str) -> None:
    logger.warning("refused a %s webhook: %s", tracker, why)


def tracker_webhook_stored(tracker: str, delivery: str, new: bool) -> None:
    logger.debug("%s webhook %s %s", tracker, delivery, "stored" if new else "was a repeat: ignored")


def listener_failed(error_id: str, kind: str, error: BaseException) -> None:
    logger.error("unexpected error %s in a %s listener: %s", error_id, kind, error, exc_info=error)


def after_ack_failed(what: str, error: object) -> None:
    logger.warning("after the acknowledgement, %s failed: %s", what, error)


def after_ack_job_crashed(job: str) -> None:
    logger.exception("after the acknowledgement, job %s hit an unexpected error", job)


def warmup_late(names: str) -> None:
    logger.warning("start-up: %s still waiting on Slack; answering from what is known meanwhile", names)


def warmup_failed(name: str, error: BaseException) -> None:
    logger.warning("start-up: %s failed: %s", name, error)
