"""The one place a Slack WebClient is made, so every call honours SLACK_API_URL and retries."""
from __future__ import annotations

import copy

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import WebClient

from bot.runtime.settings import Settings


def make_client(*, settings: Settings, token: str | None = None, timeout: int = 10, retries: bool = True) -> WebClient:
    """`retries=False`: no slack_sdk retry handlers at all (the outbox retries by its own policy)."""
    return WebClient(
        token=token or settings.bot_token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=[
            # 429: wait as long as Slack's Retry-After says, then try again.
            RateLimitErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=1),
        ] if retries else [],
    )


def without_retries(client: WebClient) -> WebClient:
    """The same client (token, URL, time-out, proxy, headers) with none of slack_sdk's retry
    handlers: they would re-send a call (a chat.postMessage) that may already have taken effect.

    An empty list must be given explicitly: WebClient(retry_handlers=None) installs a default
    connection-error handler."""
    if not client.retry_handlers:
        return client
    bare = copy.copy(client)  # shallow: shares nothing mutable but the headers dict, copied below
    bare.headers = dict(client.headers)
    bare.default_params = dict(client.default_params)
    bare.retry_handlers = []
    return bare
