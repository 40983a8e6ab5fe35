"""The app factory: the Bolt app, its database, its workers, wired together once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.web import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.inbox import DB, ERROR, InboxReplay, store_then_ack
from bot.inbox_writer import InboxWriter
from bot.outbox import OutboxDelivery, pace_for
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.slack_client import make_client
from bot.trackers import card as tracker_card
from bot.trackers.delivery import OutboxRouter, TrackerDelivery
from bot.trackers.webhooks import InboxRouter, WebhookWork
from bot.workers import LaneWorker
from models.db import WalCheckpointer, make_engine, upgrade
from models.tables import OutboxMessage, SlackEvent


@dataclass
class Hypercare:
    """One running bot: what `hypercare run`, `console` and the tests all build the same way."""

    settings: Settings
    engine: Engine
    client: WebClient
    app: App
    inbox: LaneWorker[SlackEvent]
    outbox: LaneWorker[OutboxMessage]
    scheduler: Scheduler
    checkpointer: WalCheckpointer
    inbox_writer: InboxWriter  # stores each event before its acknowledgement

    def start(self, *, receives: bool = True) -> None:
        """`receives`: this process takes Slack's requests (a worker process only works the queues)."""
        self.checkpointer.start()
        if receives:
            self.inbox_writer.start()  # and moves what a crash left in the spool
        self.inbox.start()
        self.outbox.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.inbox_writer.stop()
        self.inbox.stop()
        self.outbox.stop()
        self.checkpointer.stop()

    def wait_idle(self, *, timeout: float = 15.0) -> bool:
        """Until every stored event is handled and every outbox message delivered (tests, console)."""
        if not self.inbox_writer.wait_drained(timeout=timeout):
            return False
        inbox_idle = self.inbox.wait_idle(timeout=timeout)
        outbox_idle = self.outbox.wait_idle(timeout=timeout)
        return inbox_idle and outbox_idle and self.inbox.wait_idle(timeout=timeout)


def create_hypercare(
    *,
    settings: Settings,
    engine: Engine | None = None,
    client: WebClient | None = None,
    migrate: bool = True,
) -> Hypercare:
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    client = client or make_client(settings=settings)
    app = TransactionalApp(
        engine=engine,
        signing_secret=settings.signing_secret or "",
        client=client,              # carries the bot token and SLACK_API_URL (Bolt takes its token)
        # Listeners run before the response: for events they only store (see bot.inbox), and
        # commands answer from the database within Slack's 3 seconds.
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("hypercare.bolt"),
    )
    lease = timedelta(seconds=settings.lease_seconds)
    # Tracker calls are outbox rows too (issue 15): the router hands them to bot.trackers.
    tracker_delivery = TrackerDelivery(engine=engine, settings=settings)
    slack_delivery = OutboxDelivery(engine=engine, client=client, card_extras=tracker_card.extras_for(settings))
    outbox_worker: LaneWorker[OutboxMessage] = LaneWorker(
        name="outbox", engine=engine, model=OutboxMessage, handle=OutboxRouter(slack=slack_delivery, trackers=tracker_delivery),
        threads=settings.workers, lease=lease, poll_interval=settings.poll_interval, pace=lambda row: pace_for(row, interval=settings.channel_post_interval),
    )
    inbox_worker: LaneWorker[SlackEvent] = LaneWorker(
        name="inbox", engine=engine, model=SlackEvent, threads=settings.workers, lease=lease, poll_interval=settings.poll_interval,
        handle=InboxRouter(slack=InboxReplay(engine=engine, app=app, on_done=outbox_worker.wake),
                           trackers=WebhookWork(engine=engine, settings=settings, client=client, on_done=outbox_worker.wake)),
    )
    tracker_delivery.after_commit = outbox_worker.wake
    app.after_commit = outbox_worker.wake  # a request may have written outbox rows: deliver now
    app.hc_settings = settings  # listeners read configuration here (handlers.directory.settings_of)
    inbox_writer = InboxWriter(engine, on_stored=inbox_worker.wake, spool=settings.inbox_spool)
    app.use(store_then_ack(writer=inbox_writer))
    app.error(_remember_error)

    from handlers import register

    register(app)
    scheduler = Scheduler(enabled=settings.scheduler_enabled, timezone=settings.timezone)
    hypercare = Hypercare(settings=settings, engine=engine, client=client, app=app, inbox=inbox_worker, outbox=outbox_worker, scheduler=scheduler, checkpointer=WalCheckpointer(engine), inbox_writer=inbox_writer)
    register_jobs(hypercare)
    return hypercare


def register_jobs(hypercare: Hypercare) -> None:
    """Each feature with periodic work adds its job here (its function takes `now`)."""
    from bot import sla

    def check_sla(now: datetime) -> None:
        if sla.run_check(engine=hypercare.engine, settings=hypercare.settings, now=now):
            hypercare.outbox.wake()

    hypercare.scheduler.every(name="sla", seconds=sla.CHECK_SECONDS, run=check_sla)
    from bot import nudges

    hypercare.scheduler.every(name="followup_nudges", seconds=nudges.NUDGE_JOB_SECONDS, run=nudges.nudge_job(engine=hypercare.engine, client=hypercare.client, settings=hypercare.settings, on_sent=hypercare.outbox.wake))
    from bot import digest_schedule

    digest_schedule.register(hypercare)  # the digest tick, its start-up catch-up, and a cron job per schedule
    from bot.trackers import sync as tracker_sync
    from bot.trackers.config import configured

    def sync_trackers(now: datetime) -> None:
        if tracker_sync.run(engine=hypercare.engine, settings=hypercare.settings, now=now):
            hypercare.outbox.wake()

    if configured(hypercare.settings):  # Slack-side changes to the trackers, and auto-push (docs/trackers.md)
        hypercare.scheduler.every(name="tracker_sync", seconds=hypercare.settings.tracker_sync_seconds, run=sync_trackers)


class TransactionalApp(App):
    """A Bolt App whose every request runs in one database transaction.

    Bolt middleware cannot wrap a listener (next() returns before the listener runs), so the
    transaction wraps dispatch itself: committed when the listener succeeded, rolled back when it
    failed. A replayed event brings its own session (bot.inbox.InboxReplay), so the event is marked
    done in the same transaction as the work it caused.
    """

    def __init__(self, *, engine: Engine, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._engine = engine
        self.after_commit: Any = lambda: None
        self.hc_settings: Settings | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.context.get(DB) is not None:
            return super().dispatch(req)
        session = Session(self._engine, expire_on_commit=False)  # connects lazily: free when unused
        req.context[DB] = session
        try:
            response = super().dispatch(req)
            if response.status < 500 and not req.context.get(ERROR):
                session.commit()
                self.after_commit()
            else:
                session.rollback()
            return response
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def _remember_error(error: Exception, request: Any, logger: logging.Logger) -> BoltResponse:
    request.context[ERROR] = f"{type(error).__name__}: {error}"
    logger.exception("listener failed: %s", error, exc_info=error)
    return BoltResponse(status=500, body="")
