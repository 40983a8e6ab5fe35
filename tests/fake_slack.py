"""A fake Slack Web API server that the bot under test talks to over real HTTP.

The bot is configured with ``base_url=fake.url`` so every Web API call it makes
lands here, is recorded as a ``Call`` and gets a Slack-shaped answer. Tests then
assert on ``fake.calls`` / ``fake.wait_for(...)`` instead of mocking slack-sdk.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from tests.fake_slack_methods import Json, SlackMethods, _ts_key

log = logging.getLogger(__name__)

# Form-encoded requests carry structured arguments as JSON strings; decoding them
# lets tests inspect blocks/views as dicts whichever encoding slack-sdk chose.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})
JSON_CONTENT = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Call:
    method: str
    params: Json
    headers: dict[str, str]
    at: float
    response: Json | None = field(default=None, compare=False)  # what the fake answered (handy for ts)


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung bot request must never keep pytest alive
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive state in a fake

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")  # case-insensitive lookup, unlike the dict below
        status, headers, payload = self.server.fake._dispatch(
            path=self.path, headers=dict(self.headers), content_type=content_type, body=body
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST  # slack-sdk sends everything as POST, but be lenient

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep pytest output readable; calls are recorded instead


def _parse_body(content_type: str, body: bytes) -> Json:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {"_json": data}
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _failure_answer(failure: _Failure) -> Json:
    default = {429: "ratelimited", 200: "fatal_error"}.get(failure.status, "internal_error")
    return {"ok": False, "error": failure.error or default}


def _decode_json_fields(params: Json) -> Json:
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass  # leave it as sent; the test will see the raw string
    return params


class FakeSlack(SlackMethods):
    def __init__(
        self, *, bot_user_id: str = "UBOT", bot_id: str = "BBOT", team_id: str = "T001", socket_url: str | None = None
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.socket_url = socket_url
        self.url = ""  # set by start(); the port is only known once bound
        self._base = ""
        self.calls: list[Call] = []
        # One lock for everything: the bot calls from many threads and the fake is not hot.
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        port = self._server.server_address[1]
        self._base = f"http://127.0.0.1:{port}"
        self.url = f"{self._base}/api/"
        # A short poll interval makes stop() (which waits for the serving loop to notice) take ms, not 0.5 s.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
            self._delays: dict[str, deque[float]] = defaultdict(deque)
            self._messages: dict[str, dict[str, Json]] = defaultdict(dict)  # channel -> ts -> message
            self._channels: dict[str, Json] = {}
            self._members: dict[str, list[str]] = {}
            self._users: dict[str, Json] = {}
            self._usergroups: dict[str, Json] = {}
            self._reactions: set[tuple[str, str, str]] = set()
            self._files: dict[str, Json] = {}
            self._last_micros = 0

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

    def add_user(
        self, *, user_id: str, name: str, tz: str = "UTC", is_bot: bool = False, real_name: str | None = None,
        email: str | None = None,
    ) -> None:
        offset = ZoneInfo(tz).utcoffset(datetime.now(timezone.utc))
        real = real_name or name
        profile = {"display_name": name, "real_name": real, **({"email": email} if email else {})}
        with self._lock:
            self._users[user_id] = {
                "id": user_id, "team_id": self.team_id, "name": name, "real_name": real, "deleted": False,
                "tz": tz, "tz_label": tz, "tz_offset": int(offset.total_seconds()) if offset else 0,
                "is_bot": is_bot, "is_app_user": False, "profile": profile,
            }

    def add_message(
        self, *, channel: str, ts: str, user: str, text: str, thread_ts: str | None = None,
        files: list[Json] | None = None, **extra: Any,  # extra: e.g. bot_id, subtype, metadata, reactions
    ) -> None:
        message: Json = {"type": "message", "ts": ts, "user": user, "text": text, **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        if files:
            message["files"] = files
        with self._lock:
            self._messages[channel][ts] = message
            # Messages the bot posts later must sort after seeded ones, as they would in Slack.
            self._last_micros = max(self._last_micros, int(_ts_key(ts) * 1_000_000))

    def add_channel(
        self, *, channel_id: str, name: str, is_private: bool = False, is_member: bool = True,
        members: list[str] | None = None,
    ) -> None:
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id, "name": name, "is_channel": not is_private, "is_group": is_private,
                "is_im": False, "is_private": is_private, "is_member": is_member, "is_archived": False,
            }
            self._members[channel_id] = list(members or [])

    def add_usergroup(self, *, usergroup_id: str, handle: str, users: list[str]) -> None:
        with self._lock:
            self._usergroups[usergroup_id] = {
                "id": usergroup_id, "team_id": self.team_id, "handle": handle, "name": handle,
                "users": list(users), "user_count": len(users),
            }

    # ------------------------------------------------------------------ plumbing
    # (the Web API method models are in tests/fake_slack_methods.py)
    def _dispatch(
        self, *, path: str, headers: dict[str, str], content_type: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        kind, _, name = url.path.strip("/").partition("/")
        method = {"api": name, "response": f"response_url:{name}", "upload": f"upload:{name}"}.get(kind)
        if not method:
            return 404, {}, b"not found"
        if kind == "upload":
            params: Json = {"file_id": name, "content": body}  # the raw file bytes, as slack-sdk sends them
        else:
            params = _decode_json_fields(dict(parse_qsl(url.query)) | _parse_body(content_type, body))
        with self._lock:
            failure = self._failures[method].popleft() if self._failures.get(method) else None
            answer = self._answer(method, params) if failure is None else _failure_answer(failure)
            self.calls.append(Call(method, params, headers, time.time(), answer))
        with self._lock:
            delay = self._delays[method].popleft() if self._delays.get(method) else 0.0
        if delay:
            time.sleep(delay)  # the call has taken effect; only the answer is late (crash windows)
        if failure is not None:
            retry_after = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, {**JSON_CONTENT, **retry_after}, json.dumps(answer).encode()
        if kind == "upload":
            return 200, {"Content-Type": "text/plain"}, b"OK"  # Slack's upload host answers plain text
        return 200, JSON_CONTENT, json.dumps(answer).encode()

    def _answer(self, method: str, params: Json) -> Json:
        if method.startswith(("response_url:", "upload:")):
            return {"ok": True}
        # "chat.postMessage" is modelled by _api_chat_postMessage: the name is the route table.
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            # Unmodelled methods succeed so a gap in the fake never crashes the bot; the log makes gaps findable.
            log.warning("FakeSlack has no model for %s; answering ok", method)
            return {"ok": True}
        return {"ok": True, **handler(params)}

