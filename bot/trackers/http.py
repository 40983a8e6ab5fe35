"""JSON over HTTP with the standard library, and the three ways a call can fail.

No retries here: a failed call goes back to the outbox, which retries it later (bot.trackers
.delivery), so a client library's own retry loop would only fight the lease.
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from bot.errors import HypercareError

TIMEOUT_SECONDS = 20.0


class TrackerError(HypercareError):
    """A tracker call failed."""


class Transient(TrackerError):
    """Worth trying again: 429, 5xx, a connection error. `retry_after` is the tracker's wish."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(TrackerError):
    """Trying again cannot help (bad token, no such project, a required field): `fix` says what to do."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    if raw is None and headers is not None and headers.get("X-RateLimit-Remaining") == "0":
        reset = headers.get("X-RateLimit-Reset")  # GitHub's secondary limit: an epoch second
        if reset and reset.isdigit():
            import time

            return max(1.0, float(reset) - time.time())
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def call(method: str, url: str, *, headers: dict[str, str], body: Any = None, what: str) -> tuple[int, Any]:
    """One request; returns (status, parsed JSON or None). Raises Transient or Permanent."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/json", "User-Agent": "hypercare", **({"Content-Type": "application/json"} if data else {}), **headers,
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 - the URL is configured
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw.strip() else None)
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", errors="replace")[:500]
        status = exc.code
        if status == 429 or status >= 500 or (status == 403 and _retry_after(exc.headers) is not None):
            raise Transient(f"{what}: HTTP {status} {text}".strip(), retry_after=_retry_after(exc.headers)) from exc
        raise Permanent(f"{what}: HTTP {status} {text}".strip(), fix=_fix_for(status)) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:  # refused, reset, timed out, cut off
        raise Transient(f"{what}: connection error: {exc}") from exc


def _fix_for(status: int) -> str:
    if status == 401:
        return "the token was refused: check the tracker's token setting (it may have expired or been revoked)"
    if status == 403:
        return "the token may not do this: give it write access to issues in that project"
    if status == 404:
        return "the project was not found: check the target with `/hc tracker` (and that the token can see it)"
    if status in (400, 422):
        return "the tracker refused the fields: check required fields, labels and priority mapping for that project"
    return "see the tracker's answer above"
