"""A Slack Web API on a loopback port, with in-memory state: the far end of the console and the
base of the tests' fake Slack (tests/fake_slack.py adds failures, delays and call recording).

Bolt makes its own WebClient per request, so a stand-in for Slack must be a server the bot is
pointed at (SLACK_API_URL), not a client object. Each request is answered from the state
(messages, channels, users, …) by the method models in bot.runtime.local_slack_methods; `respond` is the
seam a subclass overrides to watch or disturb the calls.
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from bot.runtime.local_slack_methods import Json, SlackMethods, ts_key

log = logging.getLogger("hypercare.local_slack")

# Form-encoded requests carry structured arguments as JSON strings; decoding them lets the
# models (and tests) see blocks/views as dicts whichever encoding slack-sdk chose.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})
JSON_CONTENT = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Call:
    method: str
    params: Json
    headers: dict[str, str]
    at: float
    response: Json | None = field(default=None, compare=False)  # what was answered (handy for ts)


RESET = -1  # a status respond() may give: reset the connection instead of answering (a lost answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung bot request must never keep the process alive
    slack: LocalSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive state in a stand-in

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")  # case-insensitive lookup, unlike the dict below
        status, headers, payload = self.server.slack.dispatch(
            path=self.path, headers=dict(self.headers), content_type=content_type, body=body
        )
        if status == RESET:
            self._reset()
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST  # slack-sdk sends everything as POST, but be lenient

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a RST: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the reader holds a reference to the socket; the close must be the last
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # calls are recorded or shown by the owner instead


def _parse_body(content_type: str, body: bytes) -> Json:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {"_json": data}
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _decode_json_fields(params: Json) -> Json:
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass  # leave it as sent
    return params


class LocalSlack(SlackMethods):
    def __init__(
        self, *, bot_user_id: str = "UBOT", bot_id: str = "BBOT", team_id: str = "T001", socket_url: str | None = None
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.socket_url = socket_url
        self.url = ""  # set by start(); the port is only known once bound
        self._base = ""
        # One lock for everything: the bot calls from many threads and this is not hot.
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Any:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.slack = self
        port = self._server.server_address[1]
        self._base = f"http://127.0.0.1:{port}"
        self.url = f"{self._base}/api/"
        # A short poll interval makes stop() (which waits for the serving loop to notice) take ms, not 0.5 s.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="local-slack", daemon=True)
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

    def reset(self) -> None:
        with self._lock:
            self._messages: dict[str, dict[str, Json]] = defaultdict(dict)  # channel -> ts -> message
            self._channels: dict[str, Json] = {}
            self._members: dict[str, list[str]] = {}
            self._users: dict[str, Json] = {}
            self._usergroups: dict[str, Json] = {}
            self._reactions: set[tuple[str, str, str]] = set()
            self._files: dict[str, Json] = {}
            self._last_micros = 0

    # ------------------------------------------------------------------ seeding
    def new_ts(self) -> str:
        with self._lock:
            return self._next_ts()

    def message(self, *, channel: str, ts: str) -> Json | None:
        with self._lock:
            found = self._messages[channel].get(ts)
            return dict(found) if found is not None else None

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
            self._last_micros = max(self._last_micros, int(ts_key(ts) * 1_000_000))

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
    def dispatch(
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
        status, extra_headers, answer = self.respond(method, params, headers)
        if status == RESET:
            return RESET, {}, b""
        if kind == "upload" and status == 200:
            return 200, {"Content-Type": "text/plain"}, b"OK"  # Slack's upload host answers plain text
        return status, {**JSON_CONTENT, **extra_headers}, json.dumps(answer).encode()

    def respond(self, method: str, params: Json, headers: dict[str, str]) -> tuple[int, dict[str, str], Json]:
        """Answer one call: (HTTP status, extra headers, body). Subclasses watch or disturb calls here."""
        with self._lock:
            answer = self._answer(method, params)
        self.observe(Call(method, params, headers, time.time(), answer))
        return 200, {}, answer

    def observe(self, call: Call) -> None:
        """Called after each answered call (the console prints it)."""

    def _answer(self, method: str, params: Json) -> Json:
        if method.startswith(("response_url:", "upload:")):
            return {"ok": True}
        # "chat.postMessage" is modelled by _api_chat_postMessage: the name is the route table.
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            # Unmodelled methods succeed so a gap never crashes the bot; the log makes gaps findable.
            log.warning("LocalSlack has no model for %s; answering ok", method)
            return {"ok": True}
        return {"ok": True, **handler(params)}
