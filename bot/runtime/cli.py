"""The `hypercare` command."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.errors import ConfigError, HypercareError
from bot.runtime.settings import Settings, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # the console is a chat in the terminal: library INFO lines (migrations, scheduler) would bury it
    level = args.log_level or ("warning" if args.command == "console" else "info")
    logging.basicConfig(level=getattr(logging, level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"hypercare: {exc}", file=sys.stderr)
        return 2
    except HypercareError as exc:
        print(f"hypercare: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hypercare", description="A Slack bot for the war room after a launch.")
    parser.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"],
                        help="default: info (console: warning)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)")
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: $PORT or 3000)")
    run.add_argument("--host", default="0.0.0.0")
    run.set_defaults(func=_cmd_run)

    console = sub.add_parser("console", help="chat with the bot locally, no Slack needed")
    console.add_argument("--user", default="U_YOU", help="the user id you type as")
    console.add_argument("--channel", default="C_WARROOM", help="the channel id you type in")
    console.set_defaults(func=_cmd_console)

    export = sub.add_parser("export", help="write tickets to stdout")
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.add_argument("--status", action="append", help="only this status (repeatable)")
    export.add_argument("--since", help="only tickets created on or after this date (YYYY-MM-DD or ISO 8601)")
    export.set_defaults(func=_cmd_export)

    classify = sub.add_parser("classify", help="triage report texts from stdin, one JSON result per line")
    classify.set_defaults(func=_cmd_classify)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=_cmd_db_upgrade)

    digest = sub.add_parser("digest", help="stand-up digests")
    digest_sub = digest.add_subparsers(dest="digest_command", required=True)
    send = digest_sub.add_parser("send", help="post a channel's digest now (what /hc digest now does)")
    send.add_argument("--channel", required=True, help="the channel id, e.g. C0123456789")
    send.add_argument("--team", help="the workspace id (needed only when the database holds several)")
    send.set_defaults(func=_cmd_digest_send)

    dashboard = sub.add_parser("dashboard", help="serve the live dashboard alone (same database), and print its local link")
    dashboard.add_argument("--port", type=int, default=8050)
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--team", help="the workspace id (needed only when the database holds several)")
    dashboard.set_defaults(func=_cmd_dashboard)

    report = sub.add_parser("report", help="the hypercare exit report, from the database")
    report.add_argument("--format", choices=["html", "md"], default="md")
    report.add_argument("--since", help="only tickets created on or after this date (YYYY-MM-DD or ISO 8601)")
    report.add_argument("--out", help="write to this file (default: stdout)")
    report.add_argument("--team", help="the workspace id (needed only when the database holds several)")
    report.set_defaults(func=_cmd_report)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL, e.g. https://example.com: fills in request URLs (HTTP mode)")
    manifest.set_defaults(func=_cmd_manifest)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.runtime.app import create_hypercare

    from bot.runtime.processes import Supervisor, receiver_settings
    from models.db import upgrade

    settings = load_settings()
    socket_mode = bool(settings.app_token)
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET")
    upgrade(settings.database_url)  # once, before any worker process opens the database
    separate = settings.worker_processes > 0 and settings.workers > 0
    hypercare = create_hypercare(settings=receiver_settings(settings) if separate else settings, migrate=False)
    supervisor = None
    if separate:  # worker processes, restarted when one dies (bot.runtime.processes)
        supervisor = Supervisor(settings, log_level=logging.getLogger().level).start()
        # This process now only acknowledges: a request thread back from its commit (or from the
        # spool's lock) should get the GIL within a fraction of a millisecond, not CPython's 5 ms.
        sys.setswitchinterval(0.0005)
    hypercare.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if socket_mode:
            from bot.dashboard.serve import start_beside_socket_mode
            from bot.runtime.socket_mode import run_socket_mode

            port = args.port if args.port is not None else settings.port
            if settings.github_webhook_secret or settings.jira_webhook_secret or settings.linear_webhook_secret:
                from bot.runtime.server import HttpServer  # tracker webhooks need an endpoint (docs/trackers.md); it serves /dashboard and /metrics too

                HttpServer(hypercare=hypercare, host=args.host, port=port, threads=4).start()
            else:
                start_beside_socket_mode(engine=hypercare.engine, settings=hypercare.settings, host=args.host, port=port)  # /dashboard and /metrics
            run_socket_mode(hypercare)
        else:
            from bot.runtime.server import HttpServer

            port = args.port if args.port is not None else settings.port
            HttpServer(hypercare=hypercare, host=args.host, port=port, threads=settings.http_threads, processes=supervisor).serve()
    finally:
        if supervisor is not None:
            supervisor.stop()
        hypercare.stop()
    return 0


def _cmd_console(args: argparse.Namespace) -> int:
    from bot.runtime.console import run_console

    run_console(settings=load_settings(), user=args.user, channel=args.channel)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from bot.tickets.export import export_tickets

    export_tickets(settings=load_settings(), fmt=args.format, statuses=args.status, since=args.since, out=sys.stdout)
    return 0


def _cmd_classify(args: argparse.Namespace) -> int:
    from bot.triage.classify import classify_stream

    classify_stream(sys.stdin, sys.stdout)
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from models.db import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print(f"database is up to date ({_safe_url(settings.database_url)})")
    return 0


def _cmd_digest_send(args: argparse.Namespace) -> int:
    print(_send_digest(settings=load_settings(), channel=args.channel, team_id=args.team))
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from bot.dashboard.serve import run

    run(settings=load_settings(), host=args.host, port=args.port, team_id=args.team)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from bot.report.command import run

    return run(settings=load_settings(), fmt=args.format, since=args.since, out=args.out, team_id=args.team)


def _send_digest(*, settings: Settings, channel: str, team_id: str | None = None) -> str:
    """`hypercare digest send --channel C`: post the digest now and wait until Slack has it."""
    from bot.digests import chart as digest_chart
    from bot.digests import schedule as ds
    from bot.runtime.app import create_hypercare
    from models.db import session_scope, upgrade
    from models.tables import OutboxMessage
    from models.types import utcnow

    settings.require("SLACK_BOT_TOKEN")
    upgrade(settings.database_url)
    hypercare = create_hypercare(settings=settings.replace(scheduler_enabled=False, workers=max(1, settings.workers)), migrate=False)
    try:
        now = utcnow()
        with session_scope(hypercare.engine) as session:
            run = ds.post_now(session, team_id=team_id or ds.only_team(session, channel=channel), channel=channel,
                              settings=settings, now=now, owner=f"cli:{os.getpid()}")
            run_id, outbox_id = run.id, run.outbox_id
        hypercare.outbox.start()
        digest_chart.share_pending(hypercare.engine, hypercare.client, now=now, owner=f"cli:{os.getpid()}")
        hypercare.outbox.wait_idle(timeout=120)
        with session_scope(hypercare.engine) as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.status != "done":
                raise HypercareError(f"Slack has not taken the digest: {row.error if row else 'no outbox row'} (it stays queued for the bot)")
        ds.record_posted(hypercare.engine)
        return f"Posted the digest in {channel} (digest run {run_id})."
    finally:
        hypercare.stop()
        hypercare.engine.dispose()


def _cmd_manifest(args: argparse.Namespace) -> int:
    from bot.runtime.manifest import render_manifest

    sys.stdout.write(render_manifest(url=args.url))
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    raise SystemExit(main())
