"""Fake GitHub, Jira and Linear APIs on one real loopback port, for the tracker tests.

Paths: GitHub REST under /gh, Jira REST under /jira, Linear GraphQL at /linear/graphql. Every
request is recorded as a TrackerCall (tracker, action, body). Tests can make the next calls of an
action answer an error (`fail_next`: 429 with Retry-After, 500, 401, …) or take effect and then
drop the connection without an answer (`drop_after`), as a crash between "the tracker created the
issue" and "we recorded it" looks from the bot's side.
"""
from __future__ import annotations

import base64
import functools
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GITHUB_TOKEN = "gh-test-token"
JIRA_EMAIL, JIRA_TOKEN = "bot@example.com", "jira-test-token"
LINEAR_KEY = "lin_api_test"
LINEAR_TEAM_ID = "team-uuid-eng"


@dataclass(frozen=True)
class TrackerCall:
    tracker: str
    action: str
    http_method: str
    path: str
    body: Any
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeTrackers"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        answer = self.server.fake._dispatch(self.command, self.path, dict(self.headers), raw)
        if answer is None:  # took effect; the answer is lost
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, headers, payload = answer
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class FakeTrackers:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.calls: list[TrackerCall] = []
        self.github: dict[str, list[dict[str, Any]]] = defaultdict(list)  # repo → issues
        self.github_comments: dict[str, list[dict[str, Any]]] = defaultdict(list)  # "repo#n" → comments
        self.jira: dict[str, dict[str, Any]] = {}  # key → {"fields": …, "comments": […]}
        self.jira_projects = {"SHOP"}
        self.linear: dict[str, dict[str, Any]] = {}  # id → issue
        self.linear_comments: dict[str, list[str]] = defaultdict(list)
        self._failures: dict[tuple[str, str], deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self._drops: dict[tuple[str, str], int] = defaultdict(int)
        self._holds: dict[tuple[str, str], deque[threading.Event]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self.base = ""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeTrackers":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=functools.partial(self._server.serve_forever, poll_interval=0.02), name="fake-trackers", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def github_url(self) -> str:
        return f"{self.base}/gh"

    @property
    def jira_url(self) -> str:
        return f"{self.base}/jira"

    @property
    def linear_url(self) -> str:
        return f"{self.base}/linear/graphql"

    # -- test-facing ---------------------------------------------------------------------------
    def fail_next(self, tracker: str, action: str, *, status: int, times: int = 1, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._failures[(tracker, action)].extend([(status, headers)] * times)

    def drop_after(self, tracker: str, action: str, *, times: int = 1) -> None:
        """The next `times` calls of `action` take effect, then the connection closes unanswered."""
        with self._lock:
            self._drops[(tracker, action)] += times

    def hold_next(self, tracker: str, action: str) -> threading.Event:
        """The next call of `action` takes effect, then waits, unanswered, until the returned event
        is set (the test kills the bot meanwhile); then its connection is dropped."""
        release = threading.Event()
        with self._lock:
            self._holds[(tracker, action)].append(release)
        return release

    def calls_to(self, tracker: str, action: str) -> list[TrackerCall]:
        with self._lock:
            return [c for c in self.calls if c.tracker == tracker and c.action == action]

    def wait_for(self, tracker: str, action: str, *, count: int = 1, timeout: float = 15.0) -> list[TrackerCall]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(tracker, action)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {tracker} {action} call(s), got {len(self.calls_to(tracker, action))}: "
                             + ", ".join(f"{c.tracker}.{c.action}" for c in self.calls))

    # -- routing ---------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any] | None:
        body = json.loads(raw) if raw.strip() else None
        parts = urlsplit(path)
        headers = {k.lower(): v for k, v in headers.items()}
        if parts.path.startswith("/gh/"):
            tracker, action, auth_ok = "github", _github_action(method, parts.path), headers.get("authorization") == f"Bearer {GITHUB_TOKEN}"
        elif parts.path.startswith("/jira/"):
            basic = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()
            tracker, action, auth_ok = "jira", _jira_action(method, parts.path), headers.get("authorization") in (basic, f"Bearer {JIRA_TOKEN}")
        elif parts.path == "/linear/graphql":
            tracker, action, auth_ok = "linear", _linear_action(body or {}), headers.get("authorization") == LINEAR_KEY
        else:
            return 404, {}, {"message": "Not Found"}
        with self._lock:
            self.calls.append(TrackerCall(tracker, action, method, path, body, time.time()))
            failures = self._failures.get((tracker, action))
            if failures:
                status, extra = failures.popleft()
                return status, extra, {"message": f"scripted {status}"}
            if not auth_ok:
                if tracker == "linear":
                    return 200, {}, {"errors": [{"message": "Authentication required", "extensions": {"code": "AUTHENTICATION_ERROR"}}]}
                return 401, {}, {"message": "Bad credentials"}
            answer = getattr(self, f"_{tracker}")(method, parts, body or {}, action)
            if self._drops.get((tracker, action)):
                self._drops[(tracker, action)] -= 1
                return None
            hold = self._holds[(tracker, action)].popleft() if self._holds.get((tracker, action)) else None
        if hold is not None:
            hold.wait(timeout=60)
            return None
        return answer

    # -- GitHub ---------------------------------------------------------------------------
    def _github(self, method: str, parts: Any, body: dict[str, Any], action: str) -> tuple[int, dict[str, str], Any]:
        match = re.match(r"^/gh/repos/([^/]+/[^/]+)/issues(?:/(\d+))?(?:/(comments|labels))?(?:/(.+))?$", parts.path)
        if not match:
            return 404, {}, {"message": "Not Found"}
        repo, number, sub, label = match.groups()
        if repo.endswith("/missing"):
            return 404, {}, {"message": "Not Found"}
        issues = self.github[repo]
        if action == "create":
            if not body.get("title"):
                return 422, {}, {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing_field"}]}
            n = len(issues) + 1
            issue = {"number": n, "title": body["title"], "body": body.get("body", ""), "state": "open",
                     "labels": [{"name": name} for name in body.get("labels", [])], "html_url": f"https://github.com/{repo}/issues/{n}"}
            issues.append(issue)
            return 201, {}, issue
        if action == "list":
            return 200, {}, list(reversed(issues))
        issue = next((i for i in issues if str(i["number"]) == number), None)
        if issue is None:
            return 404, {}, {"message": "Not Found"}
        if action == "comment":
            self.github_comments[f"{repo}#{number}"].append({"body": body["body"]})
            return 201, {}, {"id": next(self._ids), "body": body["body"]}
        if action == "label":
            issue["labels"] += [{"name": name} for name in body["labels"]]
            return 200, {}, issue["labels"]
        if action == "unlabel":
            issue["labels"] = [entry for entry in issue["labels"] if entry["name"] != unquote(label or "")]
            return 200, {}, issue["labels"]
        return 200, {}, issue

    # -- Jira ---------------------------------------------------------------------------
    def _jira(self, method: str, parts: Any, body: dict[str, Any], action: str) -> tuple[int, dict[str, str], Any]:
        if action == "create":
            fields = body.get("fields") or {}
            project = (fields.get("project") or {}).get("key")
            if project not in self.jira_projects:
                return 400, {}, {"errors": {"project": "valid project is required"}}
            key = f"{project}-{340 + len(self.jira) + 1}"
            self.jira[key] = {"fields": fields, "comments": []}
            return 201, {}, {"id": str(10000 + len(self.jira)), "key": key, "self": f"{self.base}/jira/rest/api/3/issue/{key}"}
        if action == "search":
            jql = parse_qs(parts.query).get("jql", [""])[0]
            wanted = re.search(r'labels = "([^"]+)"', jql)
            found = [{"key": k} for k, v in self.jira.items() if wanted and wanted.group(1) in v["fields"].get("labels", [])]
            return 200, {}, {"issues": found}
        key = re.match(r"^/jira/rest/api/\d/issue/([^/]+)", parts.path)
        issue = self.jira.get(key.group(1)) if key else None
        if issue is None:
            return 404, {}, {"errorMessages": ["Issue does not exist"]}
        if action == "comment":
            issue["comments"].append(body["body"])
            return 201, {}, {"id": str(next(self._ids))}
        if action == "update":
            issue["fields"].update(body.get("fields") or {})
            for change in (body.get("update") or {}).get("labels", []):
                labels = issue["fields"].setdefault("labels", [])
                if "remove" in change and change["remove"] in labels:
                    labels.remove(change["remove"])
                if "add" in change:
                    labels.append(change["add"])
            return 204, {}, None
        return 200, {}, issue

    # -- Linear ---------------------------------------------------------------------------
    def _linear(self, method: str, parts: Any, body: dict[str, Any], action: str) -> tuple[int, dict[str, str], Any]:
        variables = body.get("variables") or {}
        if action == "team":
            nodes = [{"id": LINEAR_TEAM_ID, "key": "ENG"}] if variables.get("key") == "ENG" else []
            return 200, {}, {"data": {"teams": {"nodes": nodes}}}
        if action == "labels":
            known = {"severity:critical": "lbl-crit", "category:bug": "lbl-bug"}
            return 200, {}, {"data": {"issueLabels": {"nodes": [{"id": known[n], "name": n} for n in variables.get("names", []) if n in known]}}}
        if action == "find":
            nodes = [self._linear_node(i) for i in self.linear.values() if variables.get("marker", "\0") in i["description"]]
            return 200, {}, {"data": {"issues": {"nodes": nodes}}}
        if action == "create":
            data = dict(variables["input"])
            number = len(self.linear) + 1
            issue = {**data, "id": f"lin-{number}", "identifier": f"ENG-{number}", "url": f"https://linear.app/acme/issue/ENG-{number}"}
            self.linear[issue["id"]] = issue
            return 200, {}, {"data": {"issueCreate": {"success": True, "issue": self._linear_node(issue)}}}
        if action == "comment":
            data = variables["input"]
            self.linear_comments[data["issueId"]].append(data["body"])
            return 200, {}, {"data": {"commentCreate": {"success": True}}}
        if action == "update":
            self.linear[variables["id"]].update(variables["input"])
            return 200, {}, {"data": {"issueUpdate": {"success": True}}}
        return 200, {}, {"errors": [{"message": f"unknown query {action}", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}

    @staticmethod
    def _linear_node(issue: dict[str, Any]) -> dict[str, Any]:
        return {"id": issue["id"], "identifier": issue["identifier"], "url": issue["url"]}


def _github_action(method: str, path: str) -> str:
    if method == "POST" and path.endswith("/issues"):
        return "create"
    if method == "GET" and re.search(r"/issues$", path.split("?")[0]):
        return "list"
    if path.endswith("/comments"):
        return "comment" if method == "POST" else "comments"
    if method == "POST" and path.endswith("/labels"):
        return "label"
    if method == "DELETE" and "/labels/" in path:
        return "unlabel"
    return f"{method.lower()}"


def _jira_action(method: str, path: str) -> str:
    path = path.split("?")[0]
    if method == "POST" and re.search(r"/rest/api/\d/issue$", path):
        return "create"
    if "/search" in path:
        return "search"
    if method == "POST" and path.endswith("/comment"):
        return "comment"
    if method == "PUT":
        return "update"
    return method.lower()


def _linear_action(body: dict[str, Any]) -> str:
    query = str(body.get("query") or "")
    for needle, action in (("issueCreate", "create"), ("commentCreate", "comment"), ("issueUpdate", "update"),
                           ("teams(", "team"), ("issueLabels", "labels"), ("issues(", "find")):
        if needle in query:
            return action
    return "unknown"
