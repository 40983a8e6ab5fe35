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
    logger.warning("outbox %s (%s) failed permanently: %s", outbox_id, method, error)


def outbox_found_after_crash(outbox_id: int, ts: str) -> None:
    logger.info("outbox %s was already posted before a restart (ts %s); not posting again", outbox_id, ts)


def worker_crashed(name: str, error: BaseException) -> None:
    logger.exception("worker %s hit an unexpected error: %s", name, error)


def listening(mode: str, where: str) -> None:
    logger.info("Hypercare is listening (%s) on %s", mode, where)


def server_stop_fallback(error: BaseException) -> None:
    logger.warning("HTTP server stop: could not wake its loop (%s); closing its sockets directly", error)
