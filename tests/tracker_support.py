"""Helpers for the tracker tests: the bot wired to the fake trackers, signed webhooks sent to it."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sqlalchemy import select
from sqlmodel import Session

from models.tables import OutboxMessage, Ticket, TicketEvent
from models.tracker_tables import TrackerCarried, TrackerLink
from tests.conftest import RunningBot, start_bot, stop_bot
from tests.fake_slack import Call, FakeSlack
from tests.fake_trackers import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN, LINEAR_KEY, FakeTrackers

SECRETS = {"github": "gh-hook-secret", "jira": "jira-hook-secret", "linear": "linear-hook-secret"}
REPORTERS = ("U1", "U2", "U3")


def tracker_settings(trackers: FakeTrackers, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = dict(
        github_token=GITHUB_TOKEN, github_api_url=trackers.github_url, github_repo="acme/shop", github_webhook_secret=SECRETS["github"],
        jira_url=trackers.jira_url, jira_email=JIRA_EMAIL, jira_api_token=JIRA_TOKEN, jira_project="SHOP", jira_webhook_secret=SECRETS["jira"],
        linear_api_key=LINEAR_KEY, linear_api_url=trackers.linear_url, linear_team="ENG", linear_webhook_secret=SECRETS["linear"],
        tracker_sync_seconds=0.3, triage_users=("U_T1",),
    )
    values.update(overrides)
    return values


def start_tracker_bot(fake: FakeSlack, trackers: FakeTrackers, database_url: str, **overrides: object) -> RunningBot:
    for user in (*REPORTERS, "U_T1"):
        if user not in fake._users:
            fake.add_user(user_id=user, name=user.lower())
    return start_bot(fake=fake, database_url=database_url, **tracker_settings(trackers, **overrides))


@pytest.fixture
def trackers() -> Iterator[FakeTrackers]:
    fake = FakeTrackers().start()
    yield fake
    fake.stop()


@pytest.fixture
def tbot(fake_slack: FakeSlack, trackers: FakeTrackers, database_url: str) -> Iterator[RunningBot]:
    running = start_tracker_bot(fake_slack, trackers, database_url)
    yield running
    stop_bot(running)


def report(bot: RunningBot, text: str, *, user: str = "U1", channel: str = "C100") -> str:
    sent = bot.slack.message(channel=channel, user=user, text=text)
    assert sent.status == 200 and sent.ts
    bot.settle()
    return sent.ts


def in_thread(bot: RunningBot, channel: str, ts: str) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == channel and c.params.get("thread_ts") == ts]


def dms(bot: RunningBot, user: str) -> list[Call]:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == "D" + user and c.response and c.response.get("ok")]


def link(bot: RunningBot, ticket_id: int | None = None) -> TrackerLink | None:
    with Session(bot.engine) as session:
        query = select(TrackerLink).order_by(TrackerLink.id)
        if ticket_id is not None:
            query = query.where(TrackerLink.ticket_id == ticket_id)
        found = session.execute(query).scalars().first()
        if found is not None:
            session.expunge(found)
        return found


def wait_linked(bot: RunningBot, *, timeout: float = 20.0) -> TrackerLink:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = link(bot)
        if found is not None and found.state != "pending":
            bot.settle()
            return found
        time.sleep(0.05)
    raise AssertionError(f"the ticket was not linked in time: {link(bot)}")


def wait_until(check: Any, *, timeout: float = 15.0, what: str = "condition", explain: Callable[[], str] | None = None) -> Any:
    """`explain`: what the failure message should show of the state (a flake is then readable)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{explain()}" if explain else ""))


def ticket_history(bot: RunningBot, trackers: FakeTrackers) -> str:
    """Tickets, their events, the tracker calls queued and what the fake trackers hold."""
    lines: list[str] = []
    with Session(bot.hypercare.engine) as session:
        for t in session.execute(select(Ticket).order_by(Ticket.id)).scalars():
            lines.append(f"ticket {t.key} {t.status} {t.severity} affected={t.affected_users} title={t.title!r}")
        for e in session.execute(select(TicketEvent).order_by(TicketEvent.id)).scalars():
            lines.append(f"  event {e.id} ticket={e.ticket_id} {e.kind} {e.field_name or ''} {(e.note or '')[:80]!r}")
        carried = session.execute(select(TrackerCarried.event_id).order_by(TrackerCarried.event_id)).scalars().all()
        lines.append(f"  carried events: {list(carried)}")
        for o in session.execute(select(OutboxMessage).where(OutboxMessage.method.startswith("tracker.")).order_by(OutboxMessage.id)).scalars():  # type: ignore[attr-defined]
            lines.append(f"  call {o.id} {o.method} {o.status} attempts={o.attempts} error={o.error!r} {str(o.params)[:80]}")
    lines.append(f"jira: {json.dumps(trackers.jira, default=str)[:2000]}")
    return "\n".join(lines)


def webhook(bot: RunningBot | str, tracker: str, payload: dict[str, Any], *, event: str = "", delivery: str | None = None,
            secret: str | None = None, raw: bytes | None = None) -> tuple[int, str]:
    """POST a webhook signed as the tracker signs it (to a running bot, or a base URL); returns (status, body)."""
    if tracker == "linear" and "webhookTimestamp" not in payload:
        payload = {**payload, "webhookTimestamp": int(time.time() * 1000)}
    if tracker == "jira" and "timestamp" not in payload:
        payload = {**payload, "timestamp": int(time.time() * 1000)}
    body = raw if raw is not None else json.dumps(payload).encode()
    digest = hmac.new((secret or SECRETS[tracker]).encode(), body, hashlib.sha256).hexdigest()
    delivery = delivery or str(uuid.uuid4())
    headers = {"Content-Type": "application/json"}
    if tracker == "github":
        headers.update({"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": f"sha256={digest}"})
    elif tracker == "jira":
        headers.update({"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": delivery})
    else:
        headers.update({"Linear-Signature": digest, "Linear-Delivery": delivery, "Linear-Event": str(payload.get("type", ""))})
    base = bot if isinstance(bot, str) else bot.server.url
    request = urllib.request.Request(f"{base}/trackers/{tracker}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def github_issue_event(action: str, *, number: int, repo: str = "acme/shop", sender: str = "octo-dev") -> dict[str, Any]:
    return {"action": action, "issue": {"number": number, "state": "closed" if action == "closed" else "open", "title": "x"},
            "repository": {"full_name": repo}, "sender": {"login": sender}}


def github_comment_event(body: str, *, number: int, repo: str = "acme/shop", author: str = "octo-dev") -> dict[str, Any]:
    return {"action": "created", "issue": {"number": number}, "comment": {"body": body, "user": {"login": author}},
            "repository": {"full_name": repo}, "sender": {"login": author}}
