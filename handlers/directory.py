"""Who is who in the workspace, asked of the Web API and cached briefly: the triage user group's
members and bare `@name` look-ups. The domain (bot/) only ever sees the answers, as plain data."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.runtime.settings import Settings

logger = logging.getLogger("hypercare.directory")
GROUP_TTL_SECONDS = 60.0  # a person added to the user group can triage within a minute
USERS_TTL_SECONDS = 300.0
USERS_MIN_REFRESH_SECONDS = 10.0  # a typo must not make every command re-read the whole user list


class Directory:
    def __init__(self, *, client: WebClient, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._group: tuple[float, frozenset[str]] | None = None
        self._users: tuple[float, dict[str, str]] | None = None

    def usergroup_members(self) -> frozenset[str]:
        """Members of HYPERCARE_TRIAGE_USERGROUP (empty when none is configured or Slack refuses)."""
        group = self._settings.triage_usergroup
        if not group:
            return frozenset()
        now = self._clock()
        with self._lock:
            cached = self._group
        if cached is not None and now - cached[0] < GROUP_TTL_SECONDS:
            return cached[1]
        try:
            members = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or ())
        except SlackApiError as exc:
            # Keep what we knew rather than locking the whole team out on one failed call.
            logger.warning("usergroups.users.list %s failed: %s", group, exc.response.get("error"))
            return cached[1] if cached else frozenset()
        with self._lock:
            self._group = (now, members)
        return members

    def find_user(self, name: str) -> str | None:
        """The user id for a bare `@name` (handle, display name or real name; case-insensitive)."""
        wanted = name.strip().lstrip("@").lower()
        if not wanted:
            return None
        now = self._clock()
        with self._lock:
            cached = self._users
        if cached is not None:
            age = now - cached[0]
            if age < USERS_MIN_REFRESH_SECONDS or (wanted in cached[1] and age < USERS_TTL_SECONDS):
                return cached[1].get(wanted)
        names = self._load_users()
        with self._lock:
            self._users = (now, names)
        return names.get(wanted)

    def _load_users(self) -> dict[str, str]:
        names: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(50):  # 50 pages of 200: far more people than a war room has
            answer = self._client.users_list(limit=200, cursor=cursor) if cursor else self._client.users_list(limit=200)
            for member in answer.get("members") or []:
                if member.get("deleted") or member.get("is_bot"):
                    continue
                profile = member.get("profile") or {}
                for label in (member.get("name"), profile.get("display_name"), member.get("real_name"), profile.get("real_name")):
                    if label:
                        names.setdefault(str(label).lower(), member["id"])
            cursor = ((answer.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
        return names
