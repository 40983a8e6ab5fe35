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

from bot.runtime.local_slack import RESET, Call, LocalSlack
from bot.runtime.local_slack_methods import Json, ts_key

__all__ = ["Call", "FakeSlack"]


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None
    took_effect: bool = False  # the call did what it asks (a post is stored), then the answer failed
    reset: bool = False  # no answer at all: the connection is reset (TCP RST)


@dataclass
class _FailureRule:
    """Fails the calls `where` picks out (e.g. posts to one channel), `times` of them."""

    where: Callable[[Json], bool]
    failure: _Failure
    times: int


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
            self._failure_rules: dict[str, list[_FailureRule]] = defaultdict(list)
            self._delays: dict[str, deque[float]] = defaultdict(deque)
            self._slow: tuple[float, frozenset[str] | None] = (0.0, None)  # delay_all: seconds, which methods

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

    def delay_all(self, *, seconds: float, methods: list[str] | None = None) -> None:
        """From now on every answer (or only those to `methods`, e.g. "views.open" or
        "response_url:<key>") comes `seconds` late, after taking effect: a slow Slack. 0 ends it."""
        with self._lock:
            self._slow = (float(seconds), frozenset(methods) if methods else None)

    def fail_next(
        self, method: str, *, status: int, times: int = 1, retry_after: int | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            self._failures[method].extend([_Failure(status, retry_after, error)] * times)

    def fail_after_effect(
        self, method: str, *, status: int = 500, error: str | None = None, reset: bool = False, times: int = 1,
        where: Callable[[Json], bool] | None = None,
    ) -> None:
        """The next `times` calls to `method` (that `where` picks out) take effect — a post is stored
        and shows up in history — and are then answered with HTTP `status` (a 5xx, or 200 with
        ok:false `error`), or, with `reset`, not answered at all: the connection is reset."""
        failure = _Failure(status, None, error, took_effect=True, reset=reset)
        self._add_failure(method, failure, times=times, where=where)

    def fail_matching(
        self, method: str, *, where: Callable[[Json], bool], status: int, error: str | None = None, times: int = 1_000_000,
    ) -> None:
        """Refuse (without effect) the calls to `method` whose params `where` picks out, `times` of
        them (default: all): e.g. every post to one channel, while the others go through."""
        self._add_failure(method, _Failure(status, None, error), times=times, where=where)

    def _add_failure(self, method: str, failure: _Failure, *, times: int, where: Callable[[Json], bool] | None) -> None:
        with self._lock:
            if where is None:
                self._failures[method].extend([failure] * times)
            else:
                self._failure_rules[method].append(_FailureRule(where=where, failure=failure, times=times))

    def _take_failure(self, method: str, params: Json) -> _Failure | None:
        for rule in self._failure_rules.get(method, []):
            if rule.times > 0 and rule.where(params):
                rule.times -= 1
                return rule.failure
        return self._failures[method].popleft() if self._failures.get(method) else None

    def messages_in(self, channel: str, *, thread_ts: str | None = None) -> list[Json]:
        """What the channel (or one thread in it) holds now, oldest first: what people would see."""
        with self._lock:
            found = [dict(m) for m in self._messages[channel].values() if thread_ts is None or m.get("thread_ts") == thread_ts]
        return sorted(found, key=lambda m: ts_key(m["ts"]))

    def response_url(self, *, key: str) -> str:
        return f"{self._base}/response/{key}"

    # ------------------------------------------------------------------ plumbing
    def respond(self, method: str, params: Json, headers: dict[str, str]) -> tuple[int, dict[str, str], Json]:
        with self._lock:
            failure = self._take_failure(method, params)
            effect = self._answer(method, params) if failure is None or failure.took_effect else None
            answer = effect if failure is None else _failure_answer(failure)
            if failure is not None and failure.reset:
                answer = {"ok": False, "error": "connection_reset"}  # recorded; the bot gets no answer
            self.calls.append(Call(method, params, headers, time.time(), answer))
            delay = self._delays[method].popleft() if self._delays.get(method) else 0.0
            slow, which = self._slow
            if slow and (which is None or method in which or method.split(":", 1)[0] in which):
                delay += slow
        if delay:
            time.sleep(delay)  # the call has taken effect; only the answer is late (crash windows)
        if failure is not None and failure.reset:
            return RESET, {}, b""
        if failure is not None:
            retry_after = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, retry_after, answer
        return 200, {}, answer
