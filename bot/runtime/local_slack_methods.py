"""The Web API methods the local Slack models (bot.runtime.local_slack serves them over HTTP).

`LocalSlack._answer` looks up `_api_<method with dots as underscores>` on itself, so adding a method
here is all it takes to model it. State (messages, channels, users, …) lives on the LocalSlack; the
caller holds its lock. The tests' FakeSlack and the console both build on it.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

Json = dict[str, Any]


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def ts_key(ts: str) -> Decimal:
    return Decimal(ts)  # "1.5" and "1.000500" must compare as numbers, not strings


class SlackMethods:
    """Mixin of LocalSlack: the Slack-shaped answers, computed from its state."""

    bot_user_id: str
    bot_id: str
    team_id: str
    socket_url: str | None
    _base: str
    _ids: itertools.count[int]
    _messages: dict[str, dict[str, Json]]
    _channels: dict[str, Json]
    _members: dict[str, list[str]]
    _users: dict[str, Json]
    _usergroups: dict[str, Json]
    _reactions: set[tuple[str, str, str]]
    _files: dict[str, Json]
    _last_micros: int

    def _next_ts(self) -> str:
        # Wall-clock based so the bot's "how old is this" logic behaves; strictly increasing so ts stay unique.
        self._last_micros = max(int(time.time() * 1_000_000), self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    @staticmethod
    def _no_cursor() -> Json:
        return {"response_metadata": {"next_cursor": ""}}

    def _channel_id(self, raw: str) -> str:
        if raw[:1] in ("U", "W"):
            return "D" + raw  # posting to a user id posts to the DM, matching conversations.open
        by_name = {c["name"]: cid for cid, c in self._channels.items()}
        return by_name.get(raw.lstrip("#"), raw)

    def _render(self, channel: str, message: Json, *, with_metadata: bool) -> Json:
        out = {k: v for k, v in message.items() if with_metadata or k != "metadata"}
        ts = message["ts"]
        replies = [m for m in self._messages[channel].values() if m.get("thread_ts") == ts and m["ts"] != ts]
        if replies:
            out["thread_ts"] = ts
            out["reply_count"] = len(replies)
            out["reply_users"] = sorted({m.get("user", "") for m in replies})
            out["latest_reply"] = max((m["ts"] for m in replies), key=ts_key)
        return out

    def _page(self, channel: str, found: list[Json], params: Json, *, default_limit: int) -> Json:
        limit = int(params.get("limit") or default_limit)
        with_metadata = _truthy(params.get("include_all_metadata"))  # Slack hides metadata unless asked
        messages = [self._render(channel, m, with_metadata=with_metadata) for m in found[:limit]]
        return {"messages": messages, "has_more": len(found) > limit, **self._no_cursor()}

    @staticmethod
    def _window(messages: list[Json], params: Json) -> list[Json]:
        inclusive = _truthy(params.get("inclusive"))
        oldest, latest = ts_key(params.get("oldest") or "0"), params.get("latest")
        latest_key = ts_key(latest) if latest else Decimal("Infinity")

        def inside(m: Json) -> bool:
            key = ts_key(m["ts"])
            return oldest <= key <= latest_key if inclusive else oldest < key < latest_key

        return [m for m in messages if inside(m)]

    # ------------------------------------------------------------ method models
    def _api_auth_test(self, params: Json) -> Json:
        return {
            "url": "https://fake.slack.com/", "team": "Fake Team", "team_id": self.team_id,
            "user": "hypercare", "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False,
        }

    def _api_chat_postMessage(self, params: Json) -> Json:
        channel, ts = self._channel_id(str(params.get("channel", ""))), self._next_ts()
        message: Json = {
            "type": "message", "ts": ts, "user": self.bot_user_id, "bot_id": self.bot_id,
            "text": params.get("text", ""), "blocks": params.get("blocks") or [],
        }
        for key in ("thread_ts", "metadata", "attachments"):
            if params.get(key):
                message[key] = params[key]
        self._messages[channel][ts] = message  # so history/replies return the bot's own posts
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _api_chat_postEphemeral(self, params: Json) -> Json:
        return {"message_ts": self._next_ts()}  # ephemeral messages never show up in history

    def _api_chat_update(self, params: Json) -> Json:
        channel, ts = self._channel_id(str(params.get("channel", ""))), str(params.get("ts", ""))
        message = self._messages[channel].setdefault(ts, {"type": "message", "ts": ts, "user": self.bot_user_id})
        for key in ("text", "blocks", "metadata", "attachments"):
            if key in params:
                message[key] = params[key]
        return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": dict(message)}

    def _api_chat_delete(self, params: Json) -> Json:
        channel, ts = self._channel_id(str(params.get("channel", ""))), str(params.get("ts", ""))
        self._messages[channel].pop(ts, None)
        return {"channel": channel, "ts": ts}

    def _api_chat_getPermalink(self, params: Json) -> Json:
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        return {"channel": channel, "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}"}

    def _api_reactions_add(self, params: Json) -> Json:
        key = (str(params.get("channel")), str(params.get("timestamp")), str(params.get("name")))
        if key in self._reactions:
            return {"ok": False, "error": "already_reacted"}  # Slack refuses a duplicate reaction
        self._reactions.add(key)
        return {}

    def _api_reactions_remove(self, params: Json) -> Json:
        self._reactions.discard((str(params.get("channel")), str(params.get("timestamp")), str(params.get("name"))))
        return {}

    def _api_conversations_open(self, params: Json) -> Json:
        users = params.get("users") or ""
        users = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        channel_id = params.get("channel") or ("D" + users[0] if len(users) == 1 else "G" + "".join(users))
        return {"channel": {"id": channel_id}}

    def _api_conversations_info(self, params: Json) -> Json:
        channel_id = str(params.get("channel", ""))
        if channel_id in self._channels:
            return {"channel": dict(self._channels[channel_id])}
        if channel_id.startswith("D"):  # DMs exist implicitly once a user writes to the bot
            return {"channel": {"id": channel_id, "is_im": True, "is_private": True, "user": channel_id[1:]}}
        return {"ok": False, "error": "channel_not_found"}

    def _api_conversations_list(self, params: Json) -> Json:
        return {"channels": [dict(c) for c in self._channels.values()], **self._no_cursor()}

    def _api_conversations_history(self, params: Json) -> Json:
        channel = str(params.get("channel", ""))
        messages = sorted(self._messages[channel].values(), key=lambda m: ts_key(m["ts"]), reverse=True)
        top_level = [m for m in messages if m.get("thread_ts", m["ts"]) == m["ts"]]  # Slack omits thread replies
        return self._page(channel, self._window(top_level, params), params, default_limit=100)

    def _api_conversations_replies(self, params: Json) -> Json:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        thread = [m for m in self._messages[channel].values() if ts in (m["ts"], m.get("thread_ts"))]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        thread.sort(key=lambda m: ts_key(m["ts"]))
        parent, replies = [m for m in thread if m["ts"] == ts], [m for m in thread if m["ts"] != ts]
        # Slack always returns the parent first, whatever the oldest/latest window.
        return self._page(channel, parent + self._window(replies, params), params, default_limit=1000)

    def _api_conversations_members(self, params: Json) -> Json:
        channel = str(params.get("channel", ""))
        if channel not in self._channels:
            return {"ok": False, "error": "channel_not_found"}
        members = list(self._members[channel])
        if self._channels[channel]["is_member"] and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return {"members": members, **self._no_cursor()}

    def _api_conversations_join(self, params: Json) -> Json:
        channel = str(params.get("channel", ""))
        if channel in self._channels:
            self._channels[channel]["is_member"] = True
        return {"channel": dict(self._channels.get(channel, {"id": channel}))}

    def _api_users_info(self, params: Json) -> Json:
        user_id = str(params.get("user", ""))
        if user_id in self._users:
            return {"user": dict(self._users[user_id])}
        if user_id == self.bot_user_id:  # the bot always exists without seeding
            profile = {"display_name": "hypercare", "real_name": "Hypercare", "bot_id": self.bot_id}
            bot = {"id": user_id, "name": "hypercare", "real_name": "Hypercare", "is_bot": True, "tz": "UTC"}
            return {"user": {**bot, "tz_offset": 0, "team_id": self.team_id, "deleted": False, "profile": profile}}
        return {"ok": False, "error": "user_not_found"}

    def _api_users_lookupByEmail(self, params: Json) -> Json:
        wanted = str(params.get("email", "")).lower()
        for user in self._users.values():
            if str(user.get("profile", {}).get("email", "")).lower() == wanted and wanted:
                return {"user": dict(user)}
        return {"ok": False, "error": "users_not_found"}

    def _api_users_list(self, params: Json) -> Json:
        return {"members": [dict(u) for u in self._users.values()], **self._no_cursor()}

    def _api_usergroups_users_list(self, params: Json) -> Json:
        group = self._usergroups.get(str(params.get("usergroup", "")))
        return {"users": list(group["users"])} if group else {"ok": False, "error": "no_such_subteam"}

    def _api_views_open(self, params: Json) -> Json:
        view = params.get("view") or {}
        view = view if isinstance(view, dict) else {}
        view_id = params.get("view_id") or self._next_id("V")
        base = {"team_id": self.team_id, "state": {"values": {}}, "hash": f"{time.time():.6f}", "bot_id": self.bot_id}
        return {"view": {**base, **view, "id": view_id}}

    # views.update/push/publish answer like views.open: the view as sent, with an id.
    _api_views_update = _api_views_push = _api_views_publish = _api_views_open

    def _api_files_getUploadURLExternal(self, params: Json) -> Json:
        file_id = self._next_id("F")
        self._files[file_id] = {"id": file_id, "name": params.get("filename", ""), "title": params.get("filename", "")}
        return {"upload_url": f"{self._base}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, params: Json) -> Json:
        files = params.get("files")
        done = []
        for f in files if isinstance(files, list) else []:
            stored = self._files.setdefault(f.get("id", ""), {"id": f.get("id", ""), "name": ""})
            stored["title"] = f.get("title") or stored.get("title", "")
            stored["permalink"] = f"https://fake.slack.com/files/{self.bot_user_id}/{stored['id']}"
            done.append(dict(stored))
        return {"files": done}

    def _api_apps_connections_open(self, params: Json) -> Json:
        if not self.socket_url:
            return {"ok": False, "error": "fake_socket_url_not_set"}
        return {"url": self.socket_url}
