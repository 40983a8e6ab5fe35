"""Which stored events are of a shape the listeners cannot handle, said before they run.

Slack signs what it sends, so an event is stored and acknowledged whatever its fields hold (Slack
would retry it otherwise). But a `message` whose `user` is an object or whose `text` is not a
string is not one Slack documents: handed to the listeners it would fail every attempt, or worse,
be filed with an object as its reporter. Such an event is parked at once, with what was wrong.
Events whose fields are objects by design (`user_change`, `team_join`, `channel_created`) are not
checked here.
"""
from __future__ import annotations

from typing import Any

# Fields Slack documents as strings, per event type (absent or null is fine: e.g. a bot message
# has no `user`).
STRING_FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("user", "text", "channel", "ts", "thread_ts", "subtype", "bot_id", "channel_type", "team"),
    "app_mention": ("user", "text", "channel", "ts", "thread_ts"),
    "reaction_added": ("user", "reaction", "item_user"),
    "reaction_removed": ("user", "reaction", "item_user"),
    "member_joined_channel": ("user", "channel"),
    "member_left_channel": ("user", "channel"),
}
ITEM_FIELDS = ("type", "channel", "ts")
NESTED_MESSAGES = ("message", "previous_message")  # message_changed, message_deleted


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _wrong(fields: tuple[str, ...], data: dict[str, Any], where: str) -> str | None:
    for name in fields:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"unexpected shape ({where}.{name} is {_kind(value)})"
    return None


def shape_problem(body: Any) -> str | None:
    """What makes this stored event unworkable, or None when its shape is as Slack documents."""
    if not isinstance(body, dict):
        return f"unexpected shape (the body is {_kind(body)})"
    event = body.get("event")
    if not isinstance(event, dict):
        return f"unexpected shape (event is {_kind(event)})"
    kind = event.get("type")
    if not isinstance(kind, str):
        return f"unexpected shape (event.type is {_kind(kind)})"
    fields = STRING_FIELDS.get(kind)
    if fields is None:
        return None
    problem = _wrong(fields, event, "event")
    if problem or kind != "message":
        item = event.get("item")
        if problem is None and item is not None:
            problem = _wrong(ITEM_FIELDS, item, "event.item") if isinstance(item, dict) else f"unexpected shape (event.item is {_kind(item)})"
        return problem
    for nested in NESTED_MESSAGES:
        inner = event.get(nested)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            return f"unexpected shape (event.{nested} is {_kind(inner)})"
        problem = _wrong(("user", "text", "ts", "thread_ts", "subtype", "bot_id"), inner, f"event.{nested}")
        if problem:
            return problem
    return None
