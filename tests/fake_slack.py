"""A fake Slack Web API server that the bot under test talks to over real HTTP.

The state and the method models are bot.runtime.local_slack's (the console's far end is the same code);
this adds what tests need: every call recorded as a ``Call``, failures on demand (HTTP 429 with
``Retry-After``, 500, ``ok: false``) and late answers ("took effect, then failed"). The bot is
configured with ``api_url=fake.url``; tests assert on ``fake.calls`` / ``fake.wait_for(...)``
instead of mocking slack-sdk.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.runtime.local_slack import Call, LocalSlack
from bot.runtime.local_slack_methods import Json

__all__ = ["Call", "FakeSlack"]


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


def _failure_answer(failure: _Failure) -> Json:
    default = {429: "ratelimited", 200: "fatal_error"}.get(failure.status, "internal_error")
    return {"ok": False, "error": failure.error or default}


class FakeSlack(LocalSlack):
    def __init__(self, **kwargs: Any) -> None:
        self.calls: list[Call] = []
        super().__init__(**kwargs)

    def start(self) -> FakeSlack:
        super().start()
        return self

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.calls.clear()
            self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
            self._delays: dict[str, deque[float]] = defaultdict(deque)

    # ------------------------------------------------------------ test-facing API
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, *, count: int = 1, timeout: float = 10.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        # Polling (not a condition variable) keeps this trivially correct; 10 ms is plenty fast.
        deadline = time.monotonic() + timeout
        while True:
            matching = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(matching) >= count or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if len(matching) < count:
            seen = "\n".join(f"  {c.method} {json.dumps(c.params, default=str)[:300]}" for c in list(self.calls))
            raise AssertionError(
                f"expected >= {count} call(s) to {method} within {timeout}s, got {len(matching)}; "
                f"calls seen:\n{seen or '  (none)'}"
            )
        return matching

    def delay_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` take effect at once but are answered `seconds` later."""
        with self._lock:
            self._delays.setdefault(method, deque()).extend([seconds] * times)

    def fail_next(
        self, method: str, *, status: int, times: int = 1, retry_after: int | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            self._failures[method].extend([_Failure(status, retry_after, error)] * times)

    def response_url(self, *, key: str) -> str:
        return f"{self._base}/response/{key}"

    # ------------------------------------------------------------------ plumbing
    def respond(self, method: str, params: Json, headers: dict[str, str]) -> tuple[int, dict[str, str], Json]:
        with self._lock:
            failure = self._failures[method].popleft() if self._failures.get(method) else None
            answer = self._answer(method, params) if failure is None else _failure_answer(failure)
            self.calls.append(Call(method, params, headers, time.time(), answer))
            delay = self._delays[method].popleft() if self._delays.get(method) else 0.0
        if delay:
            time.sleep(delay)  # the call has taken effect; only the answer is late (crash windows)
        if failure is not None:
            retry_after = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, retry_after, answer
        return 200, {}, answer
