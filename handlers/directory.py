"""Who is who in the workspace, asked of the Web API and cached: the triage user group's members
and bare `@name` look-ups. The domain (bot/) only ever sees the answers, as plain data.

The request path only reads the cache (docs/acknowledgements.md): the bot loads both at start-up
(handlers.warmup), a stale answer is refreshed in the background, and a name the cache does not
know is looked up after the acknowledgement (handlers.commands answers by response_url)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.runtime.after_ack import Background
from bot.runtime.settings import Settings

logger = logging.getLogger("hypercare.directory")
GROUP_TTL_SECONDS = 60.0  # a person added to the user group can triage within a minute
USERS_TTL_SECONDS = 300.0


class Directory:
    def __init__(self, *, client: WebClient, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._group: tuple[float, frozenset[str]] | None = None
        self._users: tuple[float, dict[str, str]] | None = None
        self._background = Background(what="directory")
        self._missing: dict[str, float] = {}  # name -> the people list (its load time) it was missing from

    def usergroup_members(self) -> frozenset[str]:
        """Members of HYPERCARE_TRIAGE_USERGROUP, from the cache (a stale one is refreshed aside)."""
        if not self._settings.triage_usergroup:
            return frozenset()
        with self._lock:
            cached = self._group
        if cached is None or self._clock() - cached[0] >= GROUP_TTL_SECONDS:
            self._background.run("group", self.refresh_group)
        return cached[1] if cached else frozenset()

    def group_unknown(self) -> bool:
        """A triage user group is configured but its members were never loaded (Slack was down at start-up)."""
        with self._lock:
            return bool(self._settings.triage_usergroup) and self._group is None

    def find_user(self, name: str) -> str | None:
        """The user id for a bare `@name` (handle, display name or real name; case-insensitive),
        from the cache; None also when the cache does not know the name (see `could_learn`)."""
        wanted = name.strip().lstrip("@").lower()
        with self._lock:
            cached = self._users
        if cached is not None and self._clock() - cached[0] >= USERS_TTL_SECONDS:
            self._background.run("users", self.refresh_users)
        return cached[1].get(wanted) if cached and wanted else None

    def could_learn(self, names: list[str]) -> bool:
        """Would reading the people list again help with these names? Not for a name already
        missing from the newest list (a typo must not make every command re-read the whole list)."""
        with self._lock:
            cached = self._users
            if cached is None:
                return True
            return any(self._missing.get(n.strip().lstrip("@").lower()) != cached[0] for n in names)

    def note_missing(self, names: list[str]) -> None:
        with self._lock:
            if self._users is not None:
                for name in names:
                    self._missing[name.strip().lstrip("@").lower()] = self._users[0]

    def refresh_group(self) -> frozenset[str]:
        """Ask Slack for the user group's members (start-up, background, after an ack: never on the request path)."""
        group = self._settings.triage_usergroup
        if not group:
            return frozenset()
        now = self._clock()
        with self._lock:
            cached = self._group
        try:
            members = frozenset(self._client.usergroups_users_list(usergroup=group).get("users") or ())
        except SlackApiError as exc:
            # Keep what we knew rather than locking the whole team out on one failed call.
            logger.warning("usergroups.users.list %s failed: %s", group, exc.response.get("error"))
            return cached[1] if cached else frozenset()
        with self._lock:
            self._group = (now, members)
        return members

    def refresh_users(self) -> None:
        """Read the workspace's people again (never on the request path)."""
        now = self._clock()
        names = self._load_users()
        with self._lock:
            self._users = (now, names)

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
