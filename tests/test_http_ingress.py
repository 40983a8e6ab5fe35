"""The acknowledgement path for events in HTTP mode (bot.runtime.http_ingress): what it stores itself and
what it leaves to Bolt."""
from __future__ import annotations

import json

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
