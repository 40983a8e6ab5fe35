"""Is the bot in this channel? Answered from a cache on the request path, asked of Slack after it.

A request never waits on `conversations.info`: a channel the cache does not know is assumed to be
one the bot is in (optimistic), and the handler checks it after the acknowledgement and corrects
its answer (response_url, views.update) when the bot is not there. A "not a member" answer is
checked again in the background each time it is used, so after an `/invite` the next try works.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.runtime.after_ack import Background

TTL_SECONDS = 300.0  # a member stays known this long; then it is asked again, in the background


class Membership:
    def __init__(self, client: WebClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._background = Background(what="membership")
        self._lock = threading.Lock()

    def known(self, channel: str) -> bool | None:
        """What the cache says (None: nothing yet). Never calls Slack; a stale or negative answer
        is re-checked in the background."""
        if not channel or channel.startswith("D"):
            return True  # direct messages: the bot is always there
        with self._lock:
            cached = self._cache.get(channel)
        if cached is None:
            return None
        if not cached[1] or self._clock() - cached[0] >= TTL_SECONDS:
            self.check_in_background(channel)
        return cached[1]

    def saw(self, channel: str, *, member: bool) -> None:
        with self._lock:
            self._cache[channel] = (self._clock(), member)

    def check(self, channel: str) -> bool:
        """Ask Slack (after the acknowledgement only) and remember the answer."""
        try:
            member = bool((self._client.conversations_info(channel=channel).get("channel") or {}).get("is_member"))
        except SlackApiError as exc:
            # A private channel the bot was never invited to answers channel_not_found.
            if exc.response.get("error") not in ("channel_not_found", "not_in_channel"):
                raise
            member = False
        self.saw(channel, member=member)
        return member

    def check_in_background(self, channel: str) -> None:
        self._background.run(channel, lambda: self.check(channel))


class Asked:
    """One request's view of the cache: answers at once and remembers which answers were guesses."""

    def __init__(self, membership: Membership) -> None:
        self._membership = membership
        self.guessed: list[str] = []  # not known: answered "yes"
        self.doubted: list[str] = []  # known as "no", which an /invite since may have changed

    def is_member(self, channel: str) -> bool:
        known = self._membership.known(channel)
        if known is None:
            if channel not in self.guessed:
                self.guessed.append(channel)
            return True
        if not known and channel not in self.doubted:
            self.doubted.append(channel)
        return known
