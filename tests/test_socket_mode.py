"""Socket Mode for real: apps.connections.open hands out a loopback WebSocket the test serves."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.runtime.app import Hypercare, create_hypercare
from bot.runtime.socket_mode import socket_mode_handler
from models.tables import SlackEvent, Ticket
from tests.conftest import bot_settings
from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket_bot(fake_slack: FakeSlack, database_url: str) -> Iterator[tuple[Hypercare, FakeSocketMode]]:
    server = FakeSocketMode().start()
    fake_slack.socket_url = server.url
    hypercare = create_hypercare(settings=bot_settings(fake=fake_slack, database_url=database_url, app_token="xapp-test", signing_secret=None), migrate=False)
    hypercare.start()
    handler = socket_mode_handler(hypercare)
    handler.connect()
    assert server.connected.wait(10), "the bot did not open the Socket Mode connection"
    yield hypercare, server
    handler.client.auto_reconnect_enabled = False
    server.stop()
    try:
        handler.close()
    except AttributeError:
        pass  # slack-sdk's builtin client trips over its own socket already closed by the server

    hypercare.stop()
    hypercare.engine.dispose()


def test_event_envelope_is_stored_acknowledged_and_filed(socket_bot: tuple[Hypercare, FakeSocketMode], fake_slack: FakeSlack) -> None:
    hypercare, server = socket_bot
    assert fake_slack.calls_to("apps.connections.open")[0].headers.get("Authorization") == "Bearer xapp-test"
    event_id = f"Ev{uuid.uuid4().hex[:10]}"
    ts = f"{time.time():.6f}"
    envelope = server.push("events_api", {
        "type": "event_callback", "team_id": "T001", "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "message", "channel": "C7", "user": "U7", "text": "The mobile app crashes when I open Settings on Android 14", "ts": ts, "channel_type": "channel"},
    })
    assert server.wait_ack(envelope, timeout=10)["envelope_id"] == envelope
    assert hypercare.wait_idle(timeout=15)
    with Session(hypercare.engine) as session:
        assert session.get(SlackEvent, event_id) is not None
        assert [t.message_ts for t in session.exec(select(Ticket)).scalars()] == [ts]
    reply = fake_slack.wait_for("chat.postMessage")[0]
    assert reply.params["thread_ts"] == ts


def test_slash_command_envelope_answers_in_the_ack(socket_bot: tuple[Hypercare, FakeSocketMode]) -> None:
    hypercare, server = socket_bot
    envelope = server.push("slash_commands", {
        "command": "/hc", "text": "new Password reset e-mails never arrive", "user_id": "U8", "channel_id": "C100",
        "team_id": "T001", "trigger_id": "trig-x", "api_app_id": "A001",
    })
    ack = server.wait_ack(envelope, timeout=10)
    assert "HC-1" in ack["payload"]["text"] and ack["payload"]["response_type"] == "ephemeral"
