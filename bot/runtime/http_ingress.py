"""The acknowledgement path for Slack requests in HTTP mode.

An event is stored before Bolt sees it: the acknowledgement then costs one signature check and a
share of one group commit, and Bolt's middleware chain (authorization, listener matching) runs
later, when the stored event is replayed through the same app (bot.delivery.inbox.InboxReplay). Anything
that is not a signed event callback (url_verification, commands, interactivity, a bad signature)
goes to Bolt as before and gets Bolt's answers.

A correctly signed body that is not what Slack sends (not JSON, not an object, an event callback
without an object `event` or a string `event_id`, an interactivity `payload` that is not JSON)
is answered 400 here and stored nowhere: a 500 would only make Slack send it again.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.request.internals import extract_user_id
from slack_sdk.web import WebClient

from bot.delivery.inbox_writer import InboxWriter

# Bolt keeps these even when the bot itself caused them (slack_bolt IgnoringSelfEvents).
SELF_EVENTS_KEPT = ("member_joined_channel", "member_left_channel")
MAX_EVENT_ID = 64  # the inbox's key column
SIGNATURE_MAX_AGE = 300  # seconds, as slack_sdk's SignatureVerifier


class Verdict(enum.Enum):
    ACKNOWLEDGED = "acknowledged"  # stored (or the bot's own event, dropped): answer 200
    BAD_REQUEST = "bad_request"    # signed, but not a body Slack sends: answer 400, store nothing
    UNSIGNED = "unsigned"          # not signed, and not even parseable (Bolt would fail parsing it): 401
    TO_BOLT = "to_bolt"            # everything else, Bolt answers (401 for a bad signature)


class BotIdentity:
    """The bot's own user id and bot id, from auth.test once (as Bolt's single-team authorization does)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._ids: tuple[str | None, str | None] | None = None
        self._asking = False
        self._lock = threading.Lock()

    def ids(self) -> tuple[str | None, str | None] | None:
        """Never waits on Slack: None until auth.test has answered once (asked in the background),
        and meanwhile the request goes to Bolt, whose own auth.test answer the start-up warmed."""
        with self._lock:
            if self._ids is not None or self._asking:
                return self._ids
            self._asking = True
        threading.Thread(target=self._ask, name="bot-identity", daemon=True).start()
        return None

    def _ask(self) -> None:
        try:
            result = self._client.auth_test()
            found: tuple[str | None, str | None] | None = (result.get("user_id"), result.get("bot_id"))
        except Exception:  # noqa: BLE001 - asked again on the next event
            found = None
        with self._lock:
            self._ids, self._asking = found, False


class EventIngress:
    def __init__(self, *, signing_secret: str, writer: InboxWriter, client: WebClient) -> None:
        self._secret = signing_secret.encode()
        self._writer = writer
        self._identity = BotIdentity(client)

    def handle(self, *, raw: bytes, headers: dict[str, str], content_type: str = "application/json") -> Verdict:
        signed = self._signed(raw, timestamp=headers.get("timestamp", ""), signature=headers.get("signature", ""))
        refused = Verdict.BAD_REQUEST if signed else Verdict.UNSIGNED
        if content_type.startswith("application/x-www-form-urlencoded"):
            return Verdict.TO_BOLT if _form_is_sound(raw) else refused
        try:
            text = raw.decode("utf-8")
            body = json.loads(text)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            return refused
        if not signed:
            return Verdict.TO_BOLT  # Bolt answers 401
        if not isinstance(body, dict):
            return Verdict.BAD_REQUEST
        if body.get("type") != "event_callback":
            return Verdict.TO_BOLT  # url_verification, app_rate_limited, …
        event_id = body.get("event_id")
        if not isinstance(body.get("event"), dict) or (event_id is not None and not (isinstance(event_id, str) and 0 < len(event_id) <= MAX_EVENT_ID)):
            return Verdict.BAD_REQUEST
        if not event_id:
            return Verdict.TO_BOLT  # Bolt's middleware answers 400 "event_id missing"
        own = self._is_own_event(body)
        if own is None:
            return Verdict.TO_BOLT
        if not own:
            self._writer.store(body, retry_num=headers.get("retry_num") or None, raw=text)
        return Verdict.ACKNOWLEDGED

    def _signed(self, raw: bytes, *, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature over the raw bytes (slack_sdk's verifier wants text, and a body
        that is not UTF-8 must still be told apart: signed garbage is a 400, unsigned a 401)."""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE or not self._secret:
            return False
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def _is_own_event(self, body: dict[str, Any]) -> bool | None:
        """The bot hears its own posts; storing them would only fill the inbox (None: unknown yet)."""
        event = body["event"]
        if event.get("type") in SELF_EVENTS_KEPT:
            return False
        ids = self._identity.ids()
        if ids is None:
            return None
        bot_user_id, bot_id = ids
        user_id = extract_user_id(body)
        return bool((user_id and user_id == bot_user_id) or (event.get("bot_id") and event.get("bot_id") == bot_id))


def _form_is_sound(raw: bytes) -> bool:
    """A command or interactivity request: form fields, and `payload` (if any) a JSON object."""
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except ValueError:
        return False
    payload = form.get("payload")
    if not payload:
        return True
    try:
        return isinstance(json.loads(payload[0]), dict)
    except ValueError:
        return False
