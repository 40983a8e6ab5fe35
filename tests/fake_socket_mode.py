"""A fake Slack Socket Mode endpoint (a real WebSocket server on loopback).

Point FakeSlack's ``socket_url`` at ``FakeSocketMode().start().url`` so that
``apps.connections.open`` hands it to the bot; then ``push`` envelopes the way
Slack does and ``wait_ack`` for the bot's acknowledgement.

Teardown order matters for speed: set the client's ``auto_reconnect_enabled = False``,
``stop()`` this server, then close the client. slack-sdk's builtin client holds its
receive lock in a blocking recv (3 s socket timeout), so closing it first takes ~3 s.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Literal

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

Json = dict[str, Any]
EnvelopeType = Literal["events_api", "slash_commands", "interactive"]


class FakeSocketMode:
    def __init__(self, *, app_id: str = "A001") -> None:
        self.app_id = app_id
        self.url = ""  # set by start(); the port is only known once bound
        self.connected = threading.Event()  # set once a client has completed the handshake
        self.received: list[Json] = []  # every JSON message a client sent, in order
        self._acks: dict[str, Json] = {}
        self._cond = threading.Condition()  # guards received/_acks/_connection and wakes wait_ack
        self._connection: ServerConnection | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeSocketMode:
        # No compression: slack-sdk's builtin client does not negotiate extensions anyway.
        # Short close_timeout: a client that vanishes must not stall stop().
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, ping_interval=None, close_timeout=1)
        port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/link"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, envelope_type: EnvelopeType, payload: Json, *, accepts_response_payload: bool | None = None) -> str:
        """Sends an envelope to the connected client and returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            # Slack lets commands and interactions answer in the ack; Events API acks are empty.
            accepts_response_payload = envelope_type != "events_api"
        self.send_raw(
            message={
                "envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                "accepts_response_payload": accepts_response_payload, "retry_attempt": 0, "retry_reason": "",
            }
        )
        return envelope_id

    def send_raw(self, *, message: Json, timeout: float = 5.0) -> None:
        """Sends any JSON message, e.g. {"type": "disconnect", "reason": "refresh_requested"}."""
        if not self.connected.wait(timeout):
            raise AssertionError(f"no Socket Mode client connected to {self.url} within {timeout}s")
        with self._cond:
            connection = self._connection
        assert connection is not None
        connection.send(json.dumps(message))

    def wait_ack(self, envelope_id: str, *, timeout: float = 10.0) -> Json:
        """The client's ack for this envelope: {"envelope_id": ..., "payload": ...?}."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self._acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no ack for envelope {envelope_id} in {timeout}s; received: {self.received}")
                self._cond.wait(remaining)
            return self._acks[envelope_id]

    def _handle(self, connection: ServerConnection) -> None:
        # Runs in a server thread per client. Pings are answered by the websockets library itself.
        with self._cond:
            self._connection = connection  # the newest connection wins, as after a Slack refresh
        connection.send(json.dumps(self._hello()))
        self.connected.set()
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._cond:
                    self.received.append(message)
                    if "envelope_id" in message:
                        self._acks[message["envelope_id"]] = message
                    self._cond.notify_all()
        except ConnectionClosed:
            pass  # the client went away; a reconnect will call _handle again
        finally:
            with self._cond:
                if self._connection is connection:
                    self._connection = None
                    self.connected.clear()

    def _hello(self) -> Json:
        return {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
