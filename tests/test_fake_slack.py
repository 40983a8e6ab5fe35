"""Tests for the test harness itself, driven by the real slack-sdk and slack-bolt clients."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from tests.fake_slack import FakeSlack, Json
from tests.fake_socket_mode import FakeSocketMode
from tests.slack_requests import SlackSender, sign

SECRET = "test-signing-secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(fake: FakeSlack) -> WebClient:
    fake.reset()
    return WebClient(base_url=fake.url, token="xoxb-test")


def test_post_message_is_returned_by_replies_and_history_with_metadata(fake: FakeSlack, slack: WebClient) -> None:
    fake.add_message(channel="C1", ts="1700000000.000100", user="U1", text="checkout is broken")
    metadata = {"event_type": "hc_ticket", "event_payload": {"ticket": 7}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Ticket *7*"}}]

    posted = slack.chat_postMessage(
        channel="C1", thread_ts="1700000000.000100", text="ticket 7", blocks=blocks, metadata=metadata
    )

    assert posted["ts"] > "1700000000.000100" and posted["message"]["thread_ts"] == "1700000000.000100"
    assert posted["message"]["metadata"] == metadata and posted["message"]["bot_id"] == "BBOT"
    replies = slack.conversations_replies(channel="C1", ts="1700000000.000100", include_all_metadata=True)
    parent, reply = replies["messages"]
    assert parent["reply_count"] == 1 and reply["ts"] == posted["ts"]
    assert reply["metadata"] == metadata and reply["blocks"] == blocks and reply["user"] == "UBOT"
    plain = slack.conversations_replies(channel="C1", ts="1700000000.000100")
    assert "metadata" not in plain["messages"][1]  # like Slack, only when include_all_metadata is set
    history = slack.conversations_history(channel="C1", oldest="1700000000.000100", inclusive=True)
    assert [m["ts"] for m in history["messages"]] == ["1700000000.000100"]  # thread replies are not top-level
    call = fake.wait_for("chat.postMessage")[0]
    assert call.params["blocks"] == blocks and call.headers["Authorization"] == "Bearer xoxb-test"


def test_form_encoded_json_fields_are_decoded_and_reactions_repeat_fails(fake: FakeSlack, slack: WebClient) -> None:
    blocks = [{"type": "divider"}]
    slack.api_call("chat.postMessage", params={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)})
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == blocks

    slack.reactions_add(channel="C1", timestamp="1.000001", name="eyes")
    with pytest.raises(SlackApiError) as err:
        slack.reactions_add(channel="C1", timestamp="1.000001", name="eyes")
    assert err.value.response["error"] == "already_reacted"


def test_rate_limited_call_is_retried_after_retry_after(fake: FakeSlack, slack: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    slack.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    assert slack.chat_postMessage(channel="C1", text="hi")["ok"] is True

    assert len(fake.calls_to("chat.postMessage")) == 2


def test_server_error_surfaces_and_is_retried_by_the_server_error_handler(fake: FakeSlack, slack: WebClient) -> None:
    fake.fail_next("users.info", status=500)
    with pytest.raises(SlackApiError) as err:
        slack.users_info(user="U1")
    assert err.value.response.status_code == 500

    fake.fail_next("chat.postMessage", status=500)
    fast = FixedValueRetryIntervalCalculator(fixed_internal=0.01)
    slack.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=1, interval_calculator=fast))
    assert slack.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2


def test_ok_false_error(fake: FakeSlack, slack: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            slack.chat_postMessage(channel="C404", text="hi")
        assert err.value.response.status_code == 200 and err.value.response["error"] == "channel_not_found"
    assert slack.chat_postMessage(channel="C404", text="hi")["ok"] is True  # failures are used up



def test_a_call_can_take_effect_and_then_fail_or_reset(fake: FakeSlack) -> None:
    """"Took effect, then 500 / connection reset / ok:false": the post is in the channel although
    the client saw a failure (no retry handlers here, so each call is made once)."""
    slack = WebClient(base_url=fake.url, token="xoxb-test", retry_handlers=[])
    fake.reset()
    fake.fail_after_effect("chat.postMessage", status=500)
    fake.fail_after_effect("chat.postMessage", status=200, error="internal_error")
    fake.fail_after_effect("chat.postMessage", reset=True)
    with pytest.raises(SlackApiError) as err:
        slack.chat_postMessage(channel="C7", text="one")
    assert err.value.response.status_code == 500
    with pytest.raises(SlackApiError) as err:
        slack.chat_postMessage(channel="C7", text="two")
    assert (err.value.response.status_code, err.value.response["error"]) == (200, "internal_error")
    with pytest.raises(OSError):  # urllib: ConnectionResetError / RemoteDisconnected
        slack.chat_postMessage(channel="C7", text="three")
    assert [m["text"] for m in fake.messages_in("C7")] == ["one", "two", "three"]
    assert slack.chat_postMessage(channel="C7", text="four")["ok"] is True


def test_failures_can_pick_out_some_calls(fake: FakeSlack) -> None:
    slack = WebClient(base_url=fake.url, token="xoxb-test", retry_handlers=[])
    fake.reset()
    fake.fail_matching("chat.postMessage", where=lambda p: p.get("channel") == "C_BAD", status=503)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            slack.chat_postMessage(channel="C_BAD", text="never")
        assert slack.chat_postMessage(channel="C_GOOD", text="fine")["ok"] is True
    assert fake.messages_in("C_BAD") == [] and len(fake.messages_in("C_GOOD")) == 3

def test_users_info_channels_and_usergroups(fake: FakeSlack, slack: WebClient) -> None:
    fake.add_user(user_id="U1", name="ana", tz="Europe/Lisbon", real_name="Ana Lima")
    fake.add_channel(channel_id="C9", name="war-room", is_private=True, members=["U1"])
    fake.add_usergroup(usergroup_id="S1", handle="oncall", users=["U1"])

    user = slack.users_info(user="U1")["user"]
    assert (user["name"], user["real_name"], user["tz"], user["profile"]["real_name"]) == (
        "ana", "Ana Lima", "Europe/Lisbon", "Ana Lima",
    )
    assert user["tz_offset"] in (0, 3600) and user["is_bot"] is False
    with pytest.raises(SlackApiError) as err:
        slack.users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"
    assert slack.conversations_info(channel="C9")["channel"]["is_private"] is True
    assert slack.conversations_members(channel="C9")["members"] == ["U1", "UBOT"]
    assert slack.usergroups_users_list(usergroup="S1")["users"] == ["U1"]
    assert slack.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert slack.auth_test()["user_id"] == "UBOT"


def test_views_files_and_response_urls(fake: FakeSlack, slack: WebClient) -> None:
    view = {"type": "modal", "callback_id": "report", "title": {"type": "plain_text", "text": "Report"}, "blocks": []}
    opened = slack.views_open(trigger_id="trig-1", view=view)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "report"

    uploaded = slack.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="digest.csv", title="Digest")
    assert uploaded["file"]["title"] == "Digest"
    upload = fake.calls[-2]
    assert (upload.method, upload.params["content"]) == (f"upload:{uploaded['file']['id']}", b"a,b\n1,2\n")
    assert fake.calls[-1].method == "files.completeUploadExternal"

    WebhookClient(fake.response_url(key="cmd1")).send(text="done", response_type="ephemeral")
    assert fake.wait_for("response_url:cmd1")[0].params == {"text": "done", "response_type": "ephemeral"}


def test_wait_for_reports_what_was_seen(fake: FakeSlack, slack: WebClient) -> None:
    slack.auth_test()
    with pytest.raises(AssertionError, match="auth.test"):
        fake.wait_for("chat.postMessage", timeout=0.05)


def test_sign_matches_slack_sdk_signature_verifier() -> None:
    body = b'{"type":"event_callback"}'
    headers = sign(secret=SECRET, body=body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body, sign(secret="wrong", body=body))
    assert not verifier.is_valid_request(body, sign(secret=SECRET, body=body, timestamp=1_600_000_000))


@pytest.fixture
def bolt(fake: FakeSlack) -> Iterator[tuple[str, list[Json]]]:
    """A real Bolt app behind a stdlib HTTP server: proves the sender's requests are ones Bolt accepts.

    Yields the app's base URL and the request bodies its listeners saw."""
    fake.reset()
    seen: list[Json] = []
    app = App(signing_secret=SECRET, client=WebClient(base_url=fake.url, token="xoxb-test"))

    @app.event("message")
    def on_message(event: Json, say: Callable[[str], object]) -> None:
        say(f"echo {event['text']}")

    @app.command("/hc")
    @app.action("triage")
    @app.view("report")
    def on_interaction(ack: Callable[..., None], body: Json) -> None:
        seen.append(body)
        if body.get("type") == "view_submission":
            ack(response_action="clear")
        else:
            ack()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            response = app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in self.headers.items()}))
            self.send_response(response.status)
            self.end_headers()
            self.wfile.write(response.body.encode())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_sender_requests_are_accepted_by_a_real_bolt_app(fake: FakeSlack, bolt: tuple[str, list[Json]]) -> None:
    url, seen = bolt
    sender = SlackSender(base_url=url, signing_secret=SECRET)

    sent = sender.message(channel="C1", user="U1", text="hello")
    assert sent.status == 200 and (sent.event_id or "").startswith("Ev") and sent.ts
    assert fake.wait_for("chat.postMessage")[0].params["text"] == "echo hello"
    assert sender.command(text="status", response_url=fake.response_url(key="c")).status == 200
    assert sender.block_action(action_id="triage", value="7", user="U7").status == 200
    values = {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    assert sender.view_submission(callback_id="report", values=values).json() == {"response_action": "clear"}
    command, action, submission = seen
    assert (command["text"], command["response_url"]) == ("status", fake.response_url(key="c"))
    assert (action["actions"][0]["value"], action["user"]["id"]) == ("7", "U7")
    assert submission["view"]["state"]["values"] == values
    assert sender.event(event={"type": "message", "text": "x"}, secret="wrong").status == 401
    assert sender.event(event={"type": "message", "text": "x"}, timestamp=1_600_000_000).status == 401
    assert sender.raw(body=b"{}", headers={"Content-Type": "application/json"}).status == 401


def test_socket_mode_client_receives_an_envelope_and_acks() -> None:
    with FakeSocketMode() as socket_server, FakeSlack(socket_url=socket_server.url) as fake:
        client = SocketModeClient(app_token="xapp-test", web_client=WebClient(base_url=fake.url))
        received: list[SocketModeRequest] = []

        def listener(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
            received.append(request)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

        client.socket_mode_request_listeners.append(listener)
        try:
            client.connect()
            assert socket_server.connected.wait(5)
            envelope_id = socket_server.push("events_api", {"type": "event_callback", "event": {"type": "message"}})

            assert socket_server.wait_ack(envelope_id, timeout=5) == {"envelope_id": envelope_id}
            assert received[0].type == "events_api" and received[0].payload["event"] == {"type": "message"}
            assert fake.calls_to("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-test"
        finally:
            # Closing the server first wakes the client's blocking recv, so close() is quick instead of ~3 s.
            client.auto_reconnect_enabled = False
            socket_server.stop()
            client.close()
