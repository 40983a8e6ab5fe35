"""Signed HTTP requests to the bot, shaped the way Slack sends them.

Tests drive the bot only through its public HTTP endpoint, so signature checks,
payload parsing and acks are exercised exactly as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

Json = dict[str, Any]

_ts_lock = threading.Lock()
_last_micros = 0
_trigger_ids = itertools.count(1)


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every request: v0 HMAC-SHA256 over "v0:{ts}:{body}"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def new_ts() -> str:
    """A fresh, strictly increasing message ts based on the wall clock (like Slack's)."""
    global _last_micros
    with _ts_lock:
        _last_micros = max(int(time.time() * 1_000_000), _last_micros + 1)
        return f"{_last_micros // 1_000_000}.{_last_micros % 1_000_000:06d}"


def new_event_id() -> str:
    return "Ev" + uuid.uuid4().hex[:12].upper()  # unique across senders, so bot-side dedup never collides


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]
    event_id: str | None = None  # set by event()/message(): what the bot should dedupe on
    ts: str | None = None  # set by message(): the ts of the message sent

    def json(self) -> Any:
        return json.loads(self.body)


class SlackSender:
    def __init__(
        self, *, base_url: str, signing_secret: str, team_id: str = "T001", api_app_id: str = "A001",
        bot_user_id: str = "UBOT", timeout: float = 5.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.timeout = timeout
        # Bypass any HTTP(S)_PROXY from the environment: the bot is always on loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ events
    def event(
        self, *, event: Json, event_id: str | None = None, retry_num: int | None = None,
        retry_reason: str | None = None, timestamp: int | None = None, secret: str | None = None,
    ) -> Response:
        event_id = event_id or new_event_id()
        envelope = {
            "token": "verification-token", "team_id": self.team_id, "api_app_id": self.api_app_id,
            "event": event, "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{
                "enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id,
                "is_bot": True, "is_enterprise_install": False,
            }],
            "is_ext_shared_channel": False,
        }
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:  # Slack's redelivery markers; the bot must not double-process these
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        response = self._post(json.dumps(envelope).encode(), headers, timestamp=timestamp, secret=secret)
        response.event_id = event_id
        return response

    def message(
        self, *, channel: str, user: str, text: str, ts: str | None = None, thread_ts: str | None = None,
        **extra: Any,
    ) -> Response:
        ts = ts or new_ts()
        event = {
            "type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "channel", "team": self.team_id,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        response = self.event(event={**event, **extra})
        response.ts = ts
        return response

    # ---------------------------------------------------- commands and interactivity
    def command(
        self, *, text: str, user: str = "U100", channel: str = "C100", command: str = "/hc",
        response_url: str | None = None, trigger_id: str | None = None,
    ) -> Response:
        form = {
            "token": "verification-token", "team_id": self.team_id, "team_domain": "fake",
            "channel_id": channel, "channel_name": channel.lower(), "user_id": user, "user_name": user.lower(),
            "command": command, "text": text, "api_app_id": self.api_app_id, "is_enterprise_install": "false",
            "trigger_id": trigger_id or self._trigger_id(),
        }
        if response_url:  # omitted rather than faked: a stray real URL would make respond() hit the network
            form["response_url"] = response_url
        return self._post(urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"})

    def action(self, *, payload: Json) -> Response:
        payload = {
            "token": "verification-token", "api_app_id": self.api_app_id, "is_enterprise_install": False,
            "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": "U100", "username": "u100", "name": "u100", "team_id": self.team_id},
            **payload,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._post(body, {"Content-Type": "application/x-www-form-urlencoded"})

    def block_action(
        self, *, action_id: str, value: str, user: str = "U100", channel: str = "C100",
        message_ts: str | None = None, response_url: str | None = None, trigger_id: str = "trig-1",
        block_id: str = "b",
    ) -> Response:
        message_ts = message_ts or new_ts()
        payload: Json = {
            "type": "block_actions", "user": self._user(user), "trigger_id": trigger_id,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": channel.lower()},
            "message": {"type": "message", "ts": message_ts, "user": self.bot_user_id, "text": ""},
            "state": {"values": {}},
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": block_id, "value": value,
                "action_ts": f"{time.time():.6f}",
            }],
        }
        if response_url:
            payload["response_url"] = response_url
        return self.action(payload=payload)

    def view_submission(
        self, *, callback_id: str, values: Json, user: str = "U100", private_metadata: str = "", view_id: str = "V1"
    ) -> Response:
        """``values`` is Slack's view.state.values: {block_id: {action_id: {"type": ..., "value": ...}}}."""
        view: Json = {
            "id": view_id, "team_id": self.team_id, "type": "modal", "callback_id": callback_id,
            "private_metadata": private_metadata, "state": {"values": values}, "hash": "h1", "blocks": [],
            "app_id": self.api_app_id, "root_view_id": view_id, "previous_view_id": None,
        }
        payload = {"type": "view_submission", "user": self._user(user), "view": view, "response_urls": []}
        return self.action(payload=payload)

    def shortcut(
        self, *, callback_id: str, message: Json, channel: str, user: str = "U100", trigger_id: str = "trig-1",
        response_url: str | None = None,
    ) -> Response:
        payload: Json = {
            "type": "message_action", "callback_id": callback_id, "trigger_id": trigger_id,
            "message_ts": message.get("ts"), "message": message, "user": self._user(user),
            "channel": {"id": channel, "name": channel.lower()}, "action_ts": f"{time.time():.6f}",
        }
        if response_url:
            payload["response_url"] = response_url
        return self.action(payload=payload)

    # ------------------------------------------------------------------ transport
    def raw(self, *, body: bytes, headers: dict[str, str]) -> Response:
        """Posts exactly these bytes and headers: for malformed or unsigned requests."""
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                return Response(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as err:  # 4xx/5xx are answers to assert on, not test errors
            return Response(err.code, err.read().decode(), dict(err.headers))

    def _post(
        self, body: bytes, headers: dict[str, str], *, timestamp: int | None = None, secret: str | None = None
    ) -> Response:
        signed = sign(secret=secret or self.signing_secret, body=body, timestamp=timestamp)
        return self.raw(body=body, headers={**headers, **signed})

    def _user(self, user_id: str) -> Json:
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": self.team_id}

    @staticmethod
    def _trigger_id() -> str:
        return f"trig-{next(_trigger_ids)}"
