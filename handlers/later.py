"""What listeners ask Slack after the acknowledgement (bot.runtime.after_ack runs it): open a modal with the
fresh trigger_id, say something by response_url. Nothing here runs inside a transaction."""
from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.runtime import apology, log
from bot.runtime.after_ack import Job, later, say

__all__ = ["guarded", "later", "open_view_later", "say", "say_later"]


def guarded(job: Job, *, response_url: str | None) -> Job:
    """`job`, but an unexpected error in it still gets the person an apology with an error id."""

    def run() -> None:
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - reported to the person and logged with the same id
            error_id = apology.new_error_id()
            log.listener_failed(error_id, "after-acknowledgement", exc)
            say(response_url, apology.apology_text(error_id))

    return run


def say_later(context: MutableMapping[str, Any], response_url: str | None, text: str, **extra: Any) -> None:
    if response_url:
        later(context, lambda: say(response_url, text, **extra))


def open_view_later(
    context: MutableMapping[str, Any], *, client: WebClient, trigger_id: str, view: dict[str, Any],
    response_url: str | None, retry: str, then: Callable[[str], None] | None = None,
) -> None:
    """views.open at once after the ack (a trigger_id lives 3 s); if Slack refuses, tell the person
    how to try again (`retry`: e.g. "Run `/hc new` again."). `then` gets the opened view's id."""

    def job() -> None:
        try:
            opened = client.views_open(trigger_id=trigger_id, view=view)
        except Exception as exc:  # noqa: BLE001 - SlackApiError, a timeout, a connection error
            why = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.after_ack_failed("views.open", why)
            say(response_url, f"Sorry, I couldn't open the form (Slack said: {why}). {retry}")
            return
        if then is not None:
            then(str((opened.get("view") or {}).get("id") or ""))

    later(context, job)
