"""Is the bot in this channel? Asked before promising to post there (cached briefly)."""
from __future__ import annotations

import threading
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.errors import UserInputError
from bot.tickets.blocks import not_a_member_text

TTL_SECONDS = 300.0


class Membership:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def require(self, channel: str) -> None:
        """Raise UserInputError saying how to invite the bot when it is not in `channel`."""
        if not self.is_member(channel):
            raise UserInputError(not_a_member_text(channel))

    def is_member(self, channel: str) -> bool:
        if not channel or channel.startswith("D"):
            return True  # direct messages: the bot is always there
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(channel)
        if cached is not None and now - cached[0] < TTL_SECONDS:
            return cached[1]
        try:
            member = bool((self._client.conversations_info(channel=channel).get("channel") or {}).get("is_member"))
        except SlackApiError as exc:
            # A private channel the bot was never invited to answers channel_not_found.
            if exc.response.get("error") not in ("channel_not_found", "not_in_channel"):
                raise
            member = False
        if member:  # only remember the good news: after an /invite the next try must succeed
            with self._lock:
                self._cache[channel] = (now, member)
        return member
