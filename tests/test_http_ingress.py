"""The acknowledgement path for events in HTTP mode (bot.runtime.http_ingress): what it stores itself and
what it leaves to Bolt."""
from __future__ import annotations

import http.client
import json
import time

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import SlackEvent
from tests.conftest import RunningBot
from tests.slack_requests import new_ts, sign


def test_url_verification_is_answered_with_the_challenge(bot: RunningBot) -> None:
    body = json.dumps({"token": "verification-token", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).encode()
    response = bot.slack.raw(body=body, headers={"Content-Type": "application/json", **sign(secret=bot.slack.signing_secret, body=body)})
    assert response.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.body


def test_an_event_without_an_event_id_is_refused_and_stores_nothing(bot: RunningBot) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T001", "event": {"type": "message", "channel": "C100", "user": "U300", "text": "Payments are down", "ts": new_ts()}}).encode()
    response = bot.slack.raw(body=body, headers={"Content-Type": "application/json", **sign(secret=bot.slack.signing_secret, body=body)})
    assert response.status == 400
    with Session(bot.engine) as session:
        assert session.execute(select(func.count()).select_from(SlackEvent)).scalar_one() == 0


def test_the_bots_own_channel_join_is_kept_but_its_own_messages_are_not(bot: RunningBot) -> None:
    joined = bot.slack.event(event={"type": "member_joined_channel", "user": bot.fake.bot_user_id, "channel": "C777", "channel_type": "C", "team": "T001"})
    own = bot.slack.message(channel="C777", user=bot.fake.bot_user_id, text="HC-9 · Bug · high", bot_id=bot.fake.bot_id)
    assert joined.status == 200 and own.status == 200
    bot.settle()
    with Session(bot.engine) as session:
        assert session.get(SlackEvent, joined.event_id) is not None
        assert session.get(SlackEvent, own.event_id) is None


def test_the_server_stops_even_when_its_loop_already_closed_its_trigger(bot: RunningBot) -> None:
    """stop() wakes the server's loop through its trigger pipe; if the loop has closed that pipe
    itself, stop() closes the sockets from outside instead of failing with EBADF."""
    assert bot.slack.message(channel="C100", user="U1", text="Checkout fails with error 502").status == 200
    bot.server._server.trigger.close()  # type: ignore[union-attr]  # as the loop does when the pipe fails
    bot.server.stop()
    assert bot.server._thread is not None and not bot.server._thread.is_alive(), "the loop ended"


def stored_events(bot: RunningBot) -> int:
    with Session(bot.engine) as session:
        return int(session.execute(select(func.count()).select_from(SlackEvent)).scalar_one())


@pytest.mark.parametrize("body,content_type", [
    (b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "text": "Payments are', "application/json"),
    (b"\xff\xfe not json at all", "application/json"),
    (b'["event_callback", "Ev1"]', "application/json"),
    (b'{"type": "event_callback", "event_id": "Ev1", "team_id": "T001", "event": "message"}', "application/json"),
    (b'{"type": "event_callback", "event_id": {"id": 1}, "team_id": "T001", "event": {"type": "message"}}', "application/json"),
    (b"payload=%7B%22type%22%3A%20%22block_actions%22%2C", "application/x-www-form-urlencoded"),
], ids=["truncated-json", "binary", "json-list", "event-not-object", "event-id-object", "form-payload-not-json"])
def test_a_signed_body_that_is_not_what_slack_sends_gets_400_and_stores_nothing(bot: RunningBot, body: bytes, content_type: str) -> None:
    response = bot.slack.raw(body=body, headers={"Content-Type": content_type, **sign(secret=bot.slack.signing_secret, body=body)})
    assert response.status == 400, (response.status, response.body)
    assert "Traceback" not in response.body
    bot.settle()
    assert stored_events(bot) == 0


def test_an_unsigned_body_that_is_not_json_is_still_refused_as_unsigned(bot: RunningBot) -> None:
    body = b"{not json"
    response = bot.slack.raw(body=body, headers={"Content-Type": "application/json", **sign(secret="another-secret", body=body)})
    assert response.status == 401
    assert stored_events(bot) == 0


def test_a_body_over_1_mb_gets_413_before_it_is_read(bot: RunningBot) -> None:
    """Only the headers are sent: a 413 that comes back means the body was never waited for."""
    host, port = bot.server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(2 * 1024 * 1024))
    for name, value in sign(secret=bot.slack.signing_secret, body=b"x").items():
        connection.putheader(name, value)
    connection.endheaders()
    started = time.monotonic()
    response = connection.getresponse()
    assert response.status == 413
    assert time.monotonic() - started < 3
    connection.close()
    assert stored_events(bot) == 0


def test_a_real_event_just_under_1_mb_is_still_stored(bot: RunningBot) -> None:
    sent = bot.slack.message(channel="C100", user="U300", text="Import fails for this file: " + "x" * 900_000)
    assert sent.status == 200
    bot.settle()
    with Session(bot.engine) as session:
        assert session.get(SlackEvent, sent.event_id) is not None


def test_an_event_whose_channel_is_an_object_is_stored_without_a_lane(bot: RunningBot) -> None:
    """channel_created and friends carry `channel` as an object: the acknowledgement must not 500."""
    sent = bot.slack.event(event={"type": "channel_created", "channel": {"id": "C999", "name": "war-room-2", "created": 1700000000, "creator": "U1"}})
    assert sent.status == 200
    bot.settle()
    with Session(bot.engine) as session:
        row = session.get(SlackEvent, sent.event_id)
        assert row is not None and row.lane == "C999" and row.status == "done"
