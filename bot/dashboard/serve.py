"""`hypercare dashboard --port N`: the dashboard alone, on the same database as the bot or the
console, for a laptop. It makes one personal link and prints it."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from waitress import serve

from bot.dashboard import links
from bot.dashboard.web import DashboardWeb
from bot.errors import UserInputError
from bot.metrics import CONTENT_TYPE, Metrics
from bot.runtime.settings import Settings
from models.db import make_engine, session_scope, upgrade
from models.tables import Ticket

CONSOLE_TEAM = "T_CONSOLE"  # bot.runtime.console's workspace


def pick_team(engine: Any, team_id: str | None) -> str:
    if team_id:
        return team_id
    with session_scope(engine) as session:
        teams = sorted(session.execute(select(Ticket.team_id).distinct()).scalars().all())
    if len(teams) > 1:
        raise UserInputError(f"The database holds several workspaces ({', '.join(teams)}): say which with --team.")
    return teams[0] if teams else CONSOLE_TEAM


def application(*, engine: Any, settings: Settings) -> Callable[..., Iterable[bytes]]:
    dashboard, metrics = DashboardWeb(engine=engine, settings=settings), Metrics(engine=engine, settings=settings)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if DashboardWeb.handles(path):
            return dashboard(environ, start_response)
        if path == "/metrics":
            body = metrics.render()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: the dashboard is at the link printed when it started."]

    return app


def start_beside_socket_mode(*, engine: Any, settings: Settings, host: str, port: int) -> Any:
    """Socket Mode has no HTTP server of its own: serve the dashboard and /metrics on the port anyway."""
    import threading

    from waitress.server import create_server

    server = create_server(application(engine=engine, settings=settings), host=host, port=port, threads=4, ident="hypercare-dashboard")
    threading.Thread(target=server.run, name="dashboard-http", daemon=True).start()
    return server


def run(*, settings: Settings, host: str, port: int, team_id: str | None, printer: Callable[[str], None] | None = None) -> None:
    printer = printer or (lambda line: print(line, flush=True))
    if not (settings.dashboard_secret or settings.signing_secret):
        # No key configured (a console user): one for this process; its links end with it.
        settings = settings.replace(dashboard_secret=secrets.token_urlsafe(32))
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    team = pick_team(engine, team_id)
    with session_scope(engine) as session:
        _, token = links.create(session, settings=settings, team_id=team, user=None, kind="personal")
    local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    printer(f"Hypercare dashboard for {team}: {links.url_of(settings, token, base=local)}")
    printer(f"(valid for {settings.dashboard_link_hours:g} h; Ctrl-C stops it)")
    serve(application(engine=engine, settings=settings), host=host, port=port, threads=4, ident="hypercare-dashboard")
