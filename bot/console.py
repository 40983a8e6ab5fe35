"""`hypercare console`: chat with the bot locally, no Slack account needed.

What you type goes through the same Bolt app, inbox, handlers, domain and outbox as in Slack; only
the Web API at the far end is replaced by ConsoleSlack, a small Web API on a loopback port (Bolt
makes its own WebClient per request, so the stand-in must be a server, not a client object). It
prints each call as readable text — where it would appear: channel, thread, DM or ephemeral — and
keeps the messages for look-ups.
"""
from __future__ import annotations

import itertools
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlencode

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest

from bot.app import Hypercare, create_hypercare
from bot.settings import Settings

TEAM = "T_CONSOLE"
BOT_USER = "U_HYPERCARE"
HELP = """Type a message to post it in the channel as a reporter. Also:
  /hc <subcommand>        a slash command (try /hc help)
  !reply N <text>         reply in the thread of message #N
  !react N [emoji]        add a reaction (default :ticket:) to message #N
  !edit N <text>          edit message #N      !delete N   delete message #N
  !user U123              type as another user !channel C1 switch channel
  !help                   this help            !quit       leave"""


def as_slack_shows(text: str) -> str:
    """What a Slack client shows for posted mrkdwn: its escaped `&`, `<`, `>` as the characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_to_text(blocks: list[dict[str, Any]] | None) -> str:
    lines: list[str] = []
    for block in blocks or []:
        if block.get("type") in ("section", "header") and block.get("text"):
            lines.append(block["text"].get("text", ""))
        elif block.get("type") == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []))
        elif block.get("type") == "actions":
            labels = [((e.get("text") or e.get("placeholder") or {}).get("text", e.get("action_id", ""))) for e in block.get("elements", [])]
            lines.append("[" + " | ".join(labels) + "]")
    return as_slack_shows("\n".join(lines))


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "json" in self.headers.get("Content-Type", ""):
            args = json.loads(body or "{}")
        else:
            args = {}
            for key, value in parse_qsl(body):
                try:  # blocks, view, metadata arrive as JSON strings in form bodies
                    args[key] = json.loads(value) if value[:1] in "[{" else value
                except ValueError:
                    args[key] = value
        answer = self.server.slack.answer(self.path.rsplit("/", 1)[-1], args)
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: the console prints its own
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    slack: "ConsoleSlack"


class ConsoleSlack:
    """The Web API whose far end is this terminal."""

    def __init__(self, *, out: TextIO) -> None:
        self.out = out
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.slack = self
        threading.Thread(target=self._server.serve_forever, name="console-slack", daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"
        self.messages: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def remember(self, message: dict[str, Any]) -> int:
        with self._lock:
            self.messages[message["ts"]] = message
            self.labels.setdefault(message["ts"], len(self.labels) + 1)
            return self.labels[message["ts"]]

    def show(self, where: str, who: str, text: str) -> None:
        with self._lock:
            self.out.write(f"  [{where}] {who}: {text.strip()}\n")
            self.out.flush()

    def where(self, channel: str, thread_ts: str | None = None) -> str:
        place = f"DM {channel}" if channel.startswith("D") else f"#{channel}"
        return f"{place} › thread of #{self.labels.get(thread_ts, '?')}" if thread_ts else place

    def stop(self) -> None:
        self._server.shutdown()

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        text = blocks_to_text(args.get("blocks")) or as_slack_shows(str(args.get("text", "")))
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "B_HYPERCARE", "team_id": TEAM, "user": "hypercare"}
        if method == "chat.postMessage":
            message = {"ts": self.new_ts(), "user": BOT_USER, "bot_id": "B_HYPERCARE", "text": text, "thread_ts": args.get("thread_ts"), "metadata": args.get("metadata")}
            label = self.remember(message)
            self.show(self.where(args["channel"], args.get("thread_ts")), f"Hypercare (#{label})", text)
            return {"ok": True, "channel": args["channel"], "ts": message["ts"], "message": message}
        if method == "chat.postEphemeral":
            self.show(f"only visible to {args.get('user')} in #{args.get('channel')}", "Hypercare", text)
            return {"ok": True, "message_ts": self.new_ts()}
        if method == "chat.update":
            self.show(f"edited #{self.labels.get(args.get('ts'), '?')}", "Hypercare", text)
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "reactions.add":
            self.show(self.where(args["channel"]), "Hypercare", f"reacted :{args.get('name')}: to #{self.labels.get(args.get('timestamp'), '?')}")
            return {"ok": True}
        if method in ("conversations.history", "conversations.replies"):
            ts = args.get("latest") or args.get("ts")
            found = [m for t, m in self.messages.items() if t == ts]
            return {"ok": True, "messages": found, "has_more": False}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": args.get("channel"), "name": args.get("channel"), "is_member": True}}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"console://{args.get('channel')}/{args.get('message_ts')}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).split(",")[0]}}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view") or {}
            title = (view.get("title") or {}).get("text", "")
            self.show("modal", "Hypercare", f"opens “{title}” (modals need real Slack; use /hc new <text> here)")
            return {"ok": True, "view": {"id": "V_CONSOLE", **view}}
        if method == "users.info":
            return {"ok": True, "user": {"id": args.get("user"), "name": args.get("user"), "tz": "UTC", "tz_offset": 0}}
        return {"ok": True}


class Console:
    def __init__(self, *, hypercare: Hypercare, slack: ConsoleSlack, user: str, channel: str) -> None:
        self.hypercare = hypercare
        self.slack = slack
        self.user = user
        self.channel = channel

    def _dispatch(self, body: dict[str, Any] | str) -> Any:
        return self.hypercare.app.dispatch(BoltRequest(body=body, mode="socket_mode"))

    def event(self, event: dict[str, Any]) -> None:
        self._dispatch({"type": "event_callback", "team_id": TEAM, "event_id": f"Ev{uuid.uuid4().hex[:16]}", "event": event, "event_time": int(time.time())})

    def say(self, text: str, *, thread_ts: str | None = None) -> None:
        message = {"type": "message", "channel": self.channel, "user": self.user, "text": text, "ts": self.slack.new_ts(), "channel_type": "channel"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        label = self.slack.remember(message)
        self.slack.show(self.slack.where(self.channel, thread_ts), f"{self.user} (#{label})", text)
        self.event(message)

    def command(self, text: str) -> None:
        form = {"command": "/hc", "text": text, "user_id": self.user, "channel_id": self.channel, "team_id": TEAM, "trigger_id": f"trig-{uuid.uuid4().hex[:8]}"}
        response = self._dispatch(urlencode(form))
        if response.body:
            try:
                payload = json.loads(response.body)
            except ValueError:
                payload = {"text": response.body}
            shown = blocks_to_text(payload.get("blocks")) or as_slack_shows(str(payload.get("text", "")))
            self.slack.show(f"only visible to you in #{self.channel}", "Hypercare", shown)

    def ts_of(self, label: str) -> str:
        wanted = int(label.lstrip("#"))
        for ts, number in self.slack.labels.items():
            if number == wanted:
                return ts
        raise ValueError(f"there is no message #{wanted}")

    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line.startswith("/hc"):
            self.command(line[3:].strip())
        elif line.startswith("!"):
            return self._bang(line[1:])
        else:
            self.say(line)
        self.hypercare.wait_idle(timeout=10)
        return True

    def _bang(self, line: str) -> bool:
        name, _, rest = line.partition(" ")
        actions: dict[str, Callable[[str], None]] = {
            "reply": lambda r: self.say(r.partition(" ")[2], thread_ts=self.ts_of(r.partition(" ")[0])),
            "react": lambda r: self.event({"type": "reaction_added", "user": self.user, "reaction": (r.split() + ["ticket"])[1].strip(":"), "item": {"type": "message", "channel": self.channel, "ts": self.ts_of(r.split()[0])}}),
            "edit": lambda r: self._edit(r),
            "delete": lambda r: self.event({"type": "message", "subtype": "message_deleted", "channel": self.channel, "deleted_ts": self.ts_of(r.strip())}),
            "user": lambda r: setattr(self, "user", r.strip() or self.user),
            "channel": lambda r: setattr(self, "channel", r.strip() or self.channel),
            "help": lambda r: self.slack.out.write(HELP + "\n"),
        }
        if name == "quit":
            return False
        action = actions.get(name)
        try:
            if action is None:
                raise ValueError(f"unknown console command !{name}; try !help")
            action(rest)
        except (ValueError, IndexError) as exc:
            self.slack.out.write(f"  {exc}\n")
        self.hypercare.wait_idle(timeout=10)
        return True

    def _edit(self, rest: str) -> None:
        label, _, text = rest.partition(" ")
        ts = self.ts_of(label)
        self.slack.messages[ts]["text"] = text
        self.event({"type": "message", "subtype": "message_changed", "channel": self.channel, "message": {"type": "message", "user": self.user, "text": text, "ts": ts}, "ts": self.slack.new_ts()})


def run_console(*, settings: Settings, user: str, channel: str, source: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    slack = ConsoleSlack(out=out)
    console_settings = Settings(**{
        **settings.__dict__, "bot_token": "xoxb-console", "signing_secret": "console", "app_token": None,
        "api_url": slack.url, "channel_post_interval": 0.0,
    })
    hypercare = create_hypercare(settings=console_settings)
    hypercare.start()
    out.write(f"Hypercare console — database {settings.database_url}. You are {user} in #{channel}.\n{HELP}\n")
    console = Console(hypercare=hypercare, slack=slack, user=user, channel=channel)
    try:
        interactive = source.isatty()
        while True:
            if interactive:
                out.write("> ")
                out.flush()
            line = source.readline()
            if not line or not console.handle(line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        hypercare.wait_idle(timeout=10)
        hypercare.stop()
        slack.stop()
