"""Socket Mode: the same Bolt app, reached over Slack's WebSocket instead of public HTTP."""
from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.runtime import log
from bot.runtime.app import Hypercare


def socket_mode_handler(hypercare: Hypercare) -> SocketModeHandler:
    # apps.connections.open goes through the bot's own client, so it honours SLACK_API_URL too.
    return SocketModeHandler(hypercare.app, app_token=hypercare.settings.app_token, web_client=hypercare.client)


def run_socket_mode(hypercare: Hypercare) -> None:
    handler = socket_mode_handler(hypercare)
    log.listening("Socket Mode", hypercare.settings.api_url)
    handler.start()
