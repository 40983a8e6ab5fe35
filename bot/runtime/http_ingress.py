"""The acknowledgement path for Events API callbacks in HTTP mode.

An event is stored before Bolt sees it: the acknowledgement then costs one signature check and a
share of one group commit, and Bolt's middleware chain (authorization, listener matching) runs
later, when the stored event is replayed through the same app (bot.delivery.inbox.InboxReplay). Anything
that is not a signed event callback (url_verification, commands, interactivity, a bad signature)
goes to Bolt as before and gets Bolt's answers.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from slack_bolt.request.internals import extract_user_id
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import WebClient

from bot.delivery.inbox_writer import InboxWriter

# Bolt keeps these even when the bot itself caused them (slack_bolt IgnoringSelfEvents).
SELF_EVENTS_KEPT = ("member_joined_channel", "member_left_channel")


class BotIdentity:
    """The bot's own user id and bot id, from auth.test once (as Bolt's single-team authorization does)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._ids: tuple[str | None, str | None] | None = None
        self._lock = threading.Lock()

    def ids(self) -> tuple[str | None, str | None] | None:
        with self._lock:
            if self._ids is None:
                try:
                    result = self._client.auth_test()
                except Exception:  # Bolt will try again, and answer, on this request
                    return None
                self._ids = (result.get("user_id"), result.get("bot_id"))
            return self._ids


class EventIngress:
    def __init__(self, *, signing_secret: str, writer: InboxWriter, client: WebClient) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._writer = writer
        self._identity = BotIdentity(client)

    def handle(self, *, raw: bytes, headers: dict[str, str]) -> bool:
        """True when this request was a signed event callback and is now acknowledged (stored, or
        dropped as the bot's own event); False hands it to Bolt unchanged."""
        text = raw.decode("utf-8", errors="replace")
        if '"event_callback"' not in text or not self._verifier.is_valid(
            body=text, timestamp=headers.get("timestamp", ""), signature=headers.get("signature", "")
        ):
            return False
        try:
            body = json.loads(text)
        except ValueError:
            return False
        if not isinstance(body, dict) or body.get("type") != "event_callback" or not body.get("event_id"):
            return False
        own = self._is_own_event(body)
        if own is None:
            return False
        if not own:
            self._writer.store(body, retry_num=headers.get("retry_num") or None, raw=text)
        return True

    def _is_own_event(self, body: dict[str, Any]) -> bool | None:
        """The bot hears its own posts; storing them would only fill the inbox (None: unknown yet)."""
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        if event.get("type") in SELF_EVENTS_KEPT:
            return False
        ids = self._identity.ids()
        if ids is None:
            return None
        bot_user_id, bot_id = ids
        user_id = extract_user_id(body)
        return bool((user_id and user_id == bot_user_id) or (event.get("bot_id") and event.get("bot_id") == bot_id))
