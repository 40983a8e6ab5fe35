"""The dashboard's HTTP routes (read-only, GET): the page, its JSON data and its chart SVGs.

Every route needs a valid link (`?k=<token>`, bot.dashboard.links); anything else is a bare 403
that shows nothing. The link decides the workspace: nothing here takes a team from the request.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine

from bot.charts import Chart, render_svg
from bot.dashboard import data, links
from bot.runtime.settings import Settings
from models import dashboard_queries as q
from models import digest_queries as dq
from models.types import utcnow

PAGE, DATA, CHART, ASSET = "/dashboard", "/dashboard/data.json", "/dashboard/chart/", "/dashboard/static/"
ASSETS = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = [
    ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"),
]
FORBIDDEN = b"Forbidden"
StartResponse = Callable[..., Any]


OVERVIEW_SECONDS = 10.0  # how old the shared figures may be (the page itself refreshes every 30 s)


class OverviewCache:
    """The workspace-wide figures and chart definitions, shared by every screen watching.

    Stale-while-revalidate: a request finding them older than OVERVIEW_SECONDS gets them at once
    and starts one background recomputation (per workspace), so only a workspace's very first
    request waits for the aggregates; the ticket table is always read fresh.
    """

    def __init__(self, *, engine: Engine, seconds: float = OVERVIEW_SECONDS) -> None:
        self._engine = engine
        self._items: dict[str, tuple[float, dict[str, Any], dict[str, Chart]]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()
        self._seconds = seconds

    def get(self, team_id: str, compute: Callable[[Any], tuple[dict[str, Any], dict[str, Chart]]], session: Any) -> tuple[dict[str, Any], dict[str, Chart]]:
        with self._lock:
            hit = self._items.get(team_id)
            stale = hit is None or time.monotonic() - hit[0] >= self._seconds
            start = hit is not None and stale and self._seconds > 0 and team_id not in self._refreshing
            if start:
                self._refreshing.add(team_id)
        if hit is not None and not stale:
            return hit[1], hit[2]
        if start:
            threading.Thread(target=self._refresh, args=(team_id, compute), name=f"dashboard-{team_id}", daemon=True).start()
            return hit[1], hit[2]  # type: ignore[index]
        if hit is not None and self._seconds > 0:
            return hit[1], hit[2]  # being recomputed already
        return self._store(team_id, compute(session))

    def _store(self, team_id: str, value: tuple[dict[str, Any], dict[str, Chart]]) -> tuple[dict[str, Any], dict[str, Chart]]:
        with self._lock:
            self._items[team_id] = (time.monotonic(), *value)
        return value

    def _refresh(self, team_id: str, compute: Callable[[Any], tuple[dict[str, Any], dict[str, Chart]]]) -> None:
        try:
            with dq.read_session(self._engine) as session:
                self._store(team_id, compute(session))
        except Exception:  # the stale figures stay; the next request tries again
            logging.getLogger("hypercare.dashboard").exception("dashboard figures for %s not refreshed", team_id)
        finally:
            with self._lock:
                self._refreshing.discard(team_id)


class SvgCache:
    """Drawn SVGs by (workspace, chart fingerprint): a 30-second refresh redraws nothing unchanged."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple[str, str], draw: Callable[[], str]) -> str:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        svg = draw()
        with self._lock:
            self._items[key] = svg
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return svg


def _asset(name: str) -> bytes:
    return resources.files("bot.dashboard").joinpath("static", name).read_bytes()


class DashboardWeb:
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._svgs = SvgCache()
        self.overviews = OverviewCache(engine=engine, seconds=settings.dashboard_cache_seconds)

    @staticmethod
    def handles(path: str) -> bool:
        return path == PAGE or path.startswith(PAGE + "/")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", b"GET only", "text/plain; charset=utf-8")
        if path.startswith(ASSET) and path[len(ASSET):] in ASSETS:  # code, no data: needs no link
            name = path[len(ASSET):]
            return _send(start_response, "200 OK", _asset(name), ASSETS[name], cache=True)
        query = parse_qs(environ.get("QUERY_STRING") or "")
        token = (query.get("k") or [""])[0]
        with dq.read_session(self._engine) as session:
            link = links.verify(session, settings=self._settings, token=token)
            if link is None:
                return _send(start_response, "403 Forbidden", FORBIDDEN, "text/plain; charset=utf-8")
            team_id = link.team_id
            if path == PAGE or path == PAGE + "/":
                return _send(start_response, "200 OK", _asset("dashboard.html"), "text/html; charset=utf-8")
            overview, drawn = self.overviews.get(
                team_id, lambda s: data.overview(s, team_id=team_id, settings=self._settings, now=utcnow()), session)
            if path == DATA:
                filters = q.Filters(**{name: (query.get(name) or [""])[0][:200] for name in ("status", "severity", "category", "channel", "assignee", "words", "order")})
                body = {**overview, "tickets": data.table(session, team_id=team_id, filters=filters)}
                return _send(start_response, "200 OK", json.dumps(body, default=str).encode(), "application/json")
            name = path[len(CHART):].removesuffix(".svg") if path.startswith(CHART) and path.endswith(".svg") else ""
            if name in data.CHART_NAMES:
                chart = drawn[name]
                svg = self._svgs.get((team_id, chart.fingerprint()), lambda: render_svg(chart))
                return _send(start_response, "200 OK", svg.encode(), "image/svg+xml")
        return _send(start_response, "404 Not Found", b"Not found", "text/plain; charset=utf-8")


def _send(start_response: StartResponse, status: str, body: bytes, content_type: str, *, cache: bool = False) -> list[bytes]:
    headers = [h for h in SECURITY_HEADERS if not (cache and h[0] == "Cache-Control")]
    if cache:
        headers.append(("Cache-Control", "public, max-age=300"))
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]
