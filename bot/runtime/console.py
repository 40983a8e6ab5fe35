"""`hypercare console`: chat with the bot locally, no Slack account needed.

What you type goes through the same Bolt app, inbox, handlers, domain and outbox as in Slack; only
the Web API at the far end is replaced by ConsoleSlack: the local Slack of bot.runtime.local_slack (the
same one the tests' fake Slack builds on) printing each call as readable text — where it would
appear: channel, thread, DM or ephemeral.
"""
from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlencode

from slack_bolt import BoltRequest

from bot.runtime.local_slack import Call, LocalSlack

from bot.runtime.app import Hypercare, create_hypercare
from bot.runtime.settings import Settings

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


class ConsoleSlack(LocalSlack):
    """The local Slack (bot.runtime.local_slack) whose far end is this terminal: each call the bot makes
    is printed where it would appear, and every message gets a number to refer to it by."""

    def __init__(self, *, out: TextIO) -> None:
        super().__init__(bot_user_id=BOT_USER, bot_id="B_HYPERCARE", team_id=TEAM)
        self.out = out
        self.labels: dict[str, int] = {}

    def remember(self, ts: str) -> int:
        with self._lock:
            return self.labels.setdefault(ts, len(self.labels) + 1)

    def show(self, where: str, who: str, text: str) -> None:
        with self._lock:
            self.out.write(f"  [{where}] {who}: {text.strip()}\n")
            self.out.flush()

    def where(self, channel: str, thread_ts: str | None = None) -> str:
        place = f"DM {channel}" if channel.startswith("D") else f"#{channel}"
        return f"{place} › thread of #{self.labels.get(thread_ts, '?')}" if thread_ts else place

    def meet(self, *, user: str, channel: str) -> None:
        """The person typing and the channel they type in exist, as they would in a workspace."""
        with self._lock:
            if user not in self._users:
                self.add_user(user_id=user, name=user)
            if channel not in self._channels:
                self.add_channel(channel_id=channel, name=channel)

    def edit(self, *, channel: str, ts: str, text: str) -> None:
        with self._lock:
            self._messages[channel][ts]["text"] = text

    def observe(self, call: Call) -> None:
        args, answer = call.params, call.response or {}
        if not answer.get("ok"):
            return
        text = blocks_to_text(args.get("blocks")) or as_slack_shows(str(args.get("text", "")))
        method = call.method
        if method == "chat.postMessage":
            label = self.remember(answer["ts"])
            self.show(self.where(answer["channel"], args.get("thread_ts")), f"Hypercare (#{label})", text)
        elif method == "chat.postEphemeral":
            self.show(f"only visible to {args.get('user')} in #{args.get('channel')}", "Hypercare", text)
        elif method == "chat.update":
            self.show(f"edited #{self.labels.get(args.get('ts'), '?')}", "Hypercare", text)
        elif method == "reactions.add":
            self.show(self.where(args["channel"]), "Hypercare", f"reacted :{args.get('name')}: to #{self.labels.get(args.get('timestamp'), '?')}")
        elif method in ("views.open", "views.update", "views.push"):
            title = ((args.get("view") or {}).get("title") or {}).get("text", "")
            self.show("modal", "Hypercare", f"opens “{title}” (modals need real Slack; use /hc new <text> here)")


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
        self.slack.meet(user=self.user, channel=self.channel)
        message = {"type": "message", "channel": self.channel, "user": self.user, "text": text, "ts": self.slack.new_ts(), "channel_type": "channel"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.slack.add_message(channel=self.channel, ts=message["ts"], user=self.user, text=text, thread_ts=thread_ts)
        label = self.slack.remember(message["ts"])
        self.slack.show(self.slack.where(self.channel, thread_ts), f"{self.user} (#{label})", text)
        self.event(message)

    def command(self, text: str) -> None:
        self.slack.meet(user=self.user, channel=self.channel)
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
        self.slack.edit(channel=self.channel, ts=ts, text=text)
        self.event({"type": "message", "subtype": "message_changed", "channel": self.channel, "message": {"type": "message", "user": self.user, "text": text, "ts": ts}, "ts": self.slack.new_ts()})


def run_console(*, settings: Settings, user: str, channel: str, source: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    slack = ConsoleSlack(out=out)
    slack.start()
    slack.meet(user=user, channel=channel)
    console_settings = settings.replace(
        bot_token="xoxb-console", signing_secret="console", app_token=None, api_url=slack.url, channel_post_interval=0.0,
    )
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
