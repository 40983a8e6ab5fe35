"""HTTP mode: Waitress (a production WSGI server with a thread pool) in front of the Bolt app.

Bolt's App is synchronous; a threaded WSGI server runs it without blocking an event loop. Every
Slack request (events, commands, interactivity, shortcuts) arrives at POST /slack/events.

A body over MAX_BODY_BYTES is refused with 413 from its Content-Length, before it is read (Waitress
does it for every path; the check below is for any other WSGI server). GET /healthz: bot.runtime.health.
"""
from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

from bot.runtime import log
from bot.runtime.app import Hypercare
from bot.dashboard.web import DashboardWeb
from bot.runtime.health import WorkerProcesses, health_answer
from bot.runtime.http_ingress import EventIngress, Verdict
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.metrics import Metrics
from bot.trackers.webhooks import WebhookIngress

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
MAX_BODY_BYTES = 1024 * 1024  # Slack's requests are far smaller; a bigger body is not Slack's
# Tracker webhooks (issue 15, bot.trackers.webhooks): verified and stored before the 200.
TRACKER_PATHS = {"/trackers/github": "github", "/trackers/jira": "jira", "/trackers/linear": "linear"}
TEXT = ("Content-Type", "text/plain;charset=utf-8")


def _plain(start_response: Callable[..., Any], status: str, body: bytes = b"") -> list[bytes]:
    start_response(status, [TEXT, ("Content-Length", str(len(body)))])
    return [body]


def wsgi_app(hypercare: Hypercare, *, processes: WorkerProcesses | None = None) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(hypercare.app, path=EVENTS_PATH)
    events = EventIngress(signing_secret=hypercare.settings.signing_secret or "", writer=hypercare.inbox_writer, client=hypercare.client)
    metrics = Metrics(engine=hypercare.engine, settings=hypercare.settings)
    dashboard = DashboardWeb(engine=hypercare.engine, settings=hypercare.settings)
    trackers = WebhookIngress(engine=hypercare.engine, settings=hypercare.settings, on_stored=hypercare.inbox.wake)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            status, body = health_answer(hypercare, processes=processes)
            start_response(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
            return [body]
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            body = metrics.render()
            start_response("200 OK", [("Content-Type", METRICS_CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        if path in TRACKER_PATHS and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _plain(start_response, "400 Bad Request", b"bad Content-Length")
            if length > MAX_BODY_BYTES:
                return _plain(start_response, "413 Request Entity Too Large", b"request body too large")
            raw = environ["wsgi.input"].read(length)
            headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
            code, answer = trackers.handle(tracker=TRACKER_PATHS[path], headers=headers, raw=raw)
            return _plain(start_response, f"{code} {HTTPStatus(code).phrase}", answer.encode())
        if path and DashboardWeb.handles(path):
            return dashboard(environ, start_response)
        started = time.perf_counter()
        if path == EVENTS_PATH and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _plain(start_response, "400 Bad Request", b"bad Content-Length")
            if length > MAX_BODY_BYTES:  # refused before a byte of it is read
                return _plain(start_response, "413 Request Entity Too Large", b"request body too large")
            raw = environ["wsgi.input"].read(length)
            headers = {"timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""), "signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                       "retry_num": environ.get("HTTP_X_SLACK_RETRY_NUM", "")}
            verdict = events.handle(raw=raw, headers=headers, content_type=environ.get("CONTENT_TYPE") or "")
            if verdict is Verdict.ACKNOWLEDGED:
                metrics.observe_ack(kind="event", seconds=time.perf_counter() - started)
                return _plain(start_response, "200 OK")
            if verdict is Verdict.BAD_REQUEST:
                return _plain(start_response, "400 Bad Request", b"the request body is not a Slack request (not JSON, or not shaped as Slack sends it)")
            if verdict is Verdict.UNSIGNED:  # what Bolt answers to a bad signature
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [b'{"error": "invalid request"}']
            environ["wsgi.input"] = io.BytesIO(raw)  # Bolt reads the body again
        answer = slack(environ, start_response)
        if path == EVENTS_PATH:  # commands and interactivity are answered within this call (process_before_response)
            metrics.observe_ack(kind="bolt", seconds=time.perf_counter() - started)
        return answer

    return application


class HttpServer:
    """Waitress on a port (0 picks a free one, as the tests do); serve() blocks, start() threads.

    `processes`: the worker processes of `hypercare run`, whose liveness /healthz reports."""

    def __init__(self, *, hypercare: Hypercare, host: str = "0.0.0.0", port: int = 3000, threads: int = 16,
                 processes: WorkerProcesses | None = None) -> None:
        self._server = create_server(
            wsgi_app(hypercare, processes=processes), host=host, port=port, threads=threads, ident="hypercare",
            channel_timeout=30, connection_limit=500, clear_untrusted_proxy_headers=True,
            # Waitress refuses a larger Content-Length (>=) with 413 before reading the body.
            max_request_body_size=MAX_BODY_BYTES + 1,
        )
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        host = self._server.effective_host  # type: ignore[union-attr]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"

    def serve(self) -> None:
        log.listening("HTTP", f"{self.url}{EVENTS_PATH}")
        self._server.run()

    def start(self) -> "HttpServer":
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            self._server.run()  # type: ignore[union-attr]
        except OSError:
            if not self._stopping:
                raise
            # stop()'s fallback (logged there) closed the sockets under the loop's select():
            # the end it wanted, not a crash of the server thread
            return

    def stop(self) -> None:
        self._stopping = True
        server = self._server
        if self._thread is None:
            server.close()
        else:
            # Close the sockets from inside the server's own loop (via its trigger): closing them
            # from here would pull them out from under a select() that is still running.
            trigger = server.trigger  # type: ignore[union-attr]
            try:
                if getattr(trigger, "_closed", False):
                    raise OSError("the server's trigger is already closed")
                trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[union-attr]
            except OSError as exc:
                # The loop closed its trigger itself (it saw the pipe fail): nothing can wake
                # it any more, so close what is left from here; its next poll then ends it.
                log.server_stop_fallback(exc)
                wasyncore.close_all(server._map)  # type: ignore[union-attr]
            self._thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)  # type: ignore[union-attr]
