"""The app factory: the Bolt app, its database, its workers, wired together once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.web import WebClient
from sqlalchemy.engine import Engine

from bot.delivery import retention
from bot.digests import schedule as digest_schedule
from bot.followups import nudges
from bot.tickets import sla
from bot.delivery.inbox import InboxReplay, store_then_ack
from bot.delivery.inbox_writer import InboxWriter
from bot.delivery.outbox import OutboxDelivery, pace_for
from bot.delivery.scheduler import Scheduler
from bot.runtime.settings import Settings
from bot.runtime.slack_client import make_client
from bot.tickets.outbox_rows import TicketRows
from bot.runtime.transaction import TransactionalApp, remember_error
from bot.trackers import card as tracker_card
from bot.trackers.delivery import OutboxRouter, TrackerDelivery
from bot.trackers.webhooks import InboxRouter, WebhookWork
from bot.triage.model import load_model as load_triage_model
from bot.delivery.workers import LaneWorker
from handlers import register
from handlers.directory import Directory
from handlers.warmup import warm_up
from models.db import WalCheckpointer, make_engine, upgrade
from models.tables import OutboxMessage, SlackEvent


@dataclass
class Hypercare:
    """One running bot: what `hypercare run`, `console` and the tests all build the same way."""

    settings: Settings
    engine: Engine
    client: WebClient
    app: TransactionalApp
    inbox: LaneWorker[SlackEvent]
    outbox: LaneWorker[OutboxMessage]
    scheduler: Scheduler
    checkpointer: WalCheckpointer
    inbox_writer: InboxWriter  # stores each event before its acknowledgement
    directory: Directory  # who is who, cached for every listener (handlers.directory)

    def start(self, *, receives: bool = True) -> None:
        """`receives`: this process takes Slack's requests (a worker process only works the queues)."""
        self.checkpointer.start()
        if receives:
            # The triage model (≈ 3.5 MB of JSON) would otherwise be parsed by the first `/hc new`,
            # whose answer is due within Slack's 3 seconds: parse it before the first request.
            load_triage_model()
            warm_up(self.app, directory=self.directory)  # who the bot is, and who is who, before the first request needs it
            self.inbox_writer.start()  # and moves what a crash left in the spool
        self.inbox.start()
        self.outbox.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.app.after_ack.stop()
        self.inbox_writer.stop()
        self.inbox.stop()
        self.outbox.stop()
        self.checkpointer.stop()

    def wait_idle(self, *, timeout: float = 15.0) -> bool:
        """Until every stored event is handled and every outbox message delivered (tests, console)."""
        if not self.app.after_ack.wait_idle(timeout=timeout) or not self.inbox_writer.wait_drained(timeout=timeout):
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
        # Listeners run before the response: for events they only store (see bot.delivery.inbox), and
        # commands answer from the database within Slack's 3 seconds.
        process_before_response=True,
        token_verification_enabled=False,
        logger=logging.getLogger("hypercare.bolt"),
    )
    lease = timedelta(seconds=settings.lease_seconds)
    # Tracker calls are outbox rows too (issue 15): the router hands them to bot.trackers.
    tracker_delivery = TrackerDelivery(engine=engine, settings=settings)
    slack_delivery = OutboxDelivery(engine=engine, client=client, renderer=TicketRows(card_extras=tracker_card.extras_for(settings)), retry_base=settings.retry_base_seconds)
    outbox_worker: LaneWorker[OutboxMessage] = LaneWorker(
        name="outbox", engine=engine, model=OutboxMessage, handle=OutboxRouter(slack=slack_delivery, trackers=tracker_delivery),
        threads=settings.workers, lease=lease, poll_interval=settings.poll_interval, pace=lambda row: pace_for(row, interval=settings.channel_post_interval),
    )
    inbox_worker: LaneWorker[SlackEvent] = LaneWorker(
        name="inbox", engine=engine, model=SlackEvent, threads=settings.workers, lease=lease, poll_interval=settings.poll_interval,
        handle=InboxRouter(slack=InboxReplay(engine=engine, app=app, on_done=outbox_worker.wake, retry_base=settings.retry_base_seconds),
                           trackers=WebhookWork(engine=engine, settings=settings, client=client, on_done=outbox_worker.wake)),
    )
    tracker_delivery.after_commit = outbox_worker.wake
    app.after_commit = outbox_worker.wake  # a request may have written outbox rows: deliver now
    app.after_ack.on_done = outbox_worker.wake  # so may a job that ran after the acknowledgement
    inbox_writer = InboxWriter(engine, on_stored=inbox_worker.wake, spool=settings.inbox_spool)
    app.use(store_then_ack(writer=inbox_writer))
    app.error(remember_error)

    directory = Directory(client=client, settings=settings)  # one cache for every listener
    register(app, settings=settings, directory=directory)  # every listener, given what it shares explicitly
    scheduler = Scheduler(enabled=settings.scheduler_enabled, timezone=settings.timezone)
    hypercare = Hypercare(settings=settings, engine=engine, client=client, app=app, inbox=inbox_worker, outbox=outbox_worker, scheduler=scheduler, checkpointer=WalCheckpointer(engine), inbox_writer=inbox_writer, directory=directory)
    register_jobs(hypercare)
    return hypercare


def register_jobs(hypercare: Hypercare) -> None:
    """Each feature with periodic work adds its job here (its function takes `now`)."""
    def check_sla(now: datetime) -> None:
        if sla.run_check(engine=hypercare.engine, settings=hypercare.settings, now=now):
            hypercare.outbox.wake()

    hypercare.scheduler.every(name="sla", seconds=sla.CHECK_SECONDS, run=check_sla)
    hypercare.scheduler.every(name="followup_nudges", seconds=nudges.NUDGE_JOB_SECONDS, run=nudges.nudge_job(engine=hypercare.engine, client=hypercare.client, settings=hypercare.settings, on_sent=hypercare.outbox.wake))
    from bot.loop import exit_criteria

    check_exit = exit_criteria.check_job(engine=hypercare.engine, settings=hypercare.settings)

    def retention_job(now: datetime) -> None:  # done inbox and outbox rows older than HYPERCARE_RETENTION_DAYS
        # A digest run learns its message ts from its outbox row: copy it before the row can go.
        digest_schedule.record_posted(hypercare.engine)
        retention.run(engine=hypercare.engine, days=hypercare.settings.retention_days, now=now)

    hypercare.scheduler.every(name="retention", seconds=retention.RUN_SECONDS, run=retention_job)

    def exit_job(now: datetime) -> None:
        if check_exit(now):
            hypercare.outbox.wake()

    hypercare.scheduler.every(name="exit_criteria", seconds=exit_criteria.CHECK_SECONDS, run=exit_job)
    from bot.report import upload as report_upload

    def report_job(now: datetime) -> None:
        if report_upload.share_pending(hypercare.engine, hypercare.client, settings=hypercare.settings, now=now, owner=f"report:{id(hypercare)}"):
            hypercare.outbox.wake()

    hypercare.scheduler.every(name="report_upload", seconds=report_upload.CHECK_SECONDS, run=report_job)
    digest_schedule.register(engine=hypercare.engine, client=hypercare.client, settings=hypercare.settings,
                             scheduler=hypercare.scheduler, on_posted=hypercare.outbox.wake)
    from bot.trackers import sync as tracker_sync
    from bot.trackers.config import configured

    def sync_trackers(now: datetime) -> None:
        if tracker_sync.run(engine=hypercare.engine, settings=hypercare.settings, now=now):
            hypercare.outbox.wake()

    if configured(hypercare.settings):  # Slack-side changes to the trackers, and auto-push (docs/trackers.md)
        hypercare.scheduler.every(name="tracker_sync", seconds=hypercare.settings.tracker_sync_seconds, run=sync_trackers)

