"""The one place a Slack WebClient is made, so every call honours SLACK_API_URL and retries."""
from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import WebClient

from bot.runtime.settings import Settings


def make_client(*, settings: Settings, token: str | None = None, timeout: int = 10) -> WebClient:
    return WebClient(
        token=token or settings.bot_token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=[
            # 429: wait as long as Slack's Retry-After says, then try again.
            RateLimitErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )
