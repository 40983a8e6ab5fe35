"""HTTP mode: Waitress (a production WSGI server with a thread pool) in front of the Bolt app.

Bolt's App is synchronous; a threaded WSGI server runs it without blocking an event loop. Every
Slack request (events, commands, interactivity, shortcuts) arrives at POST /slack/events.
"""
from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress import wasyncore
from waitress.server import create_server

from bot.runtime import log
from bot.runtime.app import Hypercare
from bot.runtime.http_ingress import EventIngress

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(hypercare: Hypercare) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(hypercare.app, path=EVENTS_PATH)
    events = EventIngress(signing_secret=hypercare.settings.signing_secret or "", writer=hypercare.inbox_writer, client=hypercare.client)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            status, body = _health(hypercare)
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        if path == EVENTS_PATH and method == "POST" and (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            headers = {"timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""), "signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                       "retry_num": environ.get("HTTP_X_SLACK_RETRY_NUM", "")}
            if events.handle(raw=raw, headers=headers):
                start_response("200 OK", [("Content-Type", "text/plain;charset=utf-8"), ("Content-Length", "0")])
                return [b""]
            environ["wsgi.input"] = io.BytesIO(raw)  # Bolt reads the body again
        return slack(environ, start_response)

    return application


def _health(hypercare: Hypercare) -> tuple[str, bytes]:
    try:
        with hypercare.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # health must answer, not raise
        return "503 Service Unavailable", json.dumps({"ok": False, "database": str(exc)[:200]}).encode()
    return "200 OK", json.dumps({"ok": True, "database": "ok"}).encode()


class HttpServer:
    """Waitress on a port (0 picks a free one, as the tests do); serve() blocks, start() threads."""

    def __init__(self, *, hypercare: Hypercare, host: str = "0.0.0.0", port: int = 3000, threads: int = 16) -> None:
        self._server = create_server(
            wsgi_app(hypercare), host=host, port=port, threads=threads, ident="hypercare",
            channel_timeout=30, connection_limit=500, clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None

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
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
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
