"""The three trackers' APIs, the few calls Hypercare makes: find by marker, create, comment,
change priority, read the latest comments. Plain HTTP (bot.trackers.http); every call raises
Transient or Permanent, and the outbox decides what happens next."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from bot.runtime.settings import Settings
from bot.trackers.content import JIRA_PRIORITY, LINEAR_PRIORITY, Issue, labels, priorities
from bot.trackers.http import Permanent, Transient, call


@dataclass(frozen=True)
class Created:
    external_id: str  # what webhooks name: owner/repo#12, SHOP-341, a Linear issue id
    key: str  # what people read: owner/repo#12, SHOP-341, ENG-7
    url: str


class Client(Protocol):
    def find(self, issue: Issue) -> Created | None: ...
    def create(self, issue: Issue) -> Created: ...
    def comment(self, external_id: str, text: str) -> None: ...
    def set_severity(self, external_id: str, *, old: str, new: str) -> None: ...


class GitHub:
    """GitHub Issues, REST v3 (github.com, or GitHub Enterprise at <host>/api/v3)."""

    def __init__(self, *, settings: Settings, repo: str) -> None:
        if not settings.github_token:
            raise Permanent("GitHub is not configured", fix="set HYPERCARE_GITHUB_TOKEN (a token with Issues: read and write)")
        if repo.count("/") != 1:
            raise Permanent(f"“{repo}” is not a repository", fix="name it owner/name, e.g. `/hc tracker github acme/shop`")
        self._base = settings.github_api_url.rstrip("/")
        self._repo = repo
        self._headers = {"Authorization": f"Bearer {settings.github_token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        self._labels = settings.github_labels

    def _url(self, path: str) -> str:
        return f"{self._base}/repos/{self._repo}{path}"

    def _created(self, answer: dict[str, Any]) -> Created:
        ref = f"{self._repo}#{answer['number']}"
        return Created(external_id=ref, key=ref, url=str(answer.get("html_url") or ""))

    def find(self, issue: Issue) -> Created | None:
        # The issue list, newest first (no search index: it has no lag); a lost create is recent.
        query = urlencode({"state": "all", "sort": "created", "direction": "desc", "per_page": 100})
        _, answer = call("GET", self._url(f"/issues?{query}"), headers=self._headers, what="GitHub list issues")
        for found in answer or []:
            if issue.marker in str(found.get("body") or "") and "pull_request" not in found:
                return self._created(found)
        return None

    def create(self, issue: Issue) -> Created:
        body = {"title": issue.title, "body": issue.markdown(), "labels": labels(self._labels, severity=issue.severity, category=issue.category)}
        _, answer = call("POST", self._url("/issues"), headers=self._headers, body=body, what="GitHub create issue")
        return self._created(answer)

    def comment(self, external_id: str, text: str) -> None:
        number = external_id.rsplit("#", 1)[1]
        call("POST", self._url(f"/issues/{number}/comments"), headers=self._headers, body={"body": text}, what="GitHub comment")

    def set_severity(self, external_id: str, *, old: str, new: str) -> None:
        number = external_id.rsplit("#", 1)[1]
        template = [part for part in self._labels.split(",") if "{severity}" in part]
        if not template:
            return  # the labels carry no severity: nothing to change
        new_label, old_label = (template[0].strip().format(severity=s, category="") for s in (new, old))
        call("POST", self._url(f"/issues/{number}/labels"), headers=self._headers, body={"labels": [new_label]}, what="GitHub add label")
        try:
            call("DELETE", self._url(f"/issues/{number}/labels/{quote(old_label)}"), headers=self._headers, what="GitHub remove label")
        except Permanent:  # the old label was already gone: nothing to remove
            pass

    def latest_comments(self, external_id: str) -> list[dict[str, Any]]:
        number = external_id.rsplit("#", 1)[1]
        _, answer = call("GET", self._url(f"/issues/{number}/comments?per_page=100"), headers=self._headers, what="GitHub comments")
        return [{"body": str(c.get("body") or ""), "author": str((c.get("user") or {}).get("login") or "")} for c in answer or []]


class Jira:
    """Jira Cloud (REST v3, e-mail + API token) or Server/Data Center (REST v2, a personal access
    token as Bearer): HYPERCARE_JIRA_EMAIL set means Cloud."""

    def __init__(self, *, settings: Settings, project: str) -> None:
        if not (settings.jira_url and settings.jira_api_token):
            raise Permanent("Jira is not configured", fix="set HYPERCARE_JIRA_URL and HYPERCARE_JIRA_API_TOKEN (and HYPERCARE_JIRA_EMAIL for Jira Cloud)")
        self._base = settings.jira_url.rstrip("/")
        self._project = project
        self._cloud = bool(settings.jira_email)
        self._api = f"{self._base}/rest/api/{'3' if self._cloud else '2'}"
        if self._cloud:
            basic = base64.b64encode(f"{settings.jira_email}:{settings.jira_api_token}".encode()).decode()
            self._headers = {"Authorization": f"Basic {basic}"}
        else:
            self._headers = {"Authorization": f"Bearer {settings.jira_api_token}"}
        self.issue_type = settings.jira_issue_type
        self._priority = priorities(settings.jira_priorities, JIRA_PRIORITY)

    def _text(self, text: str) -> Any:
        """Cloud v3 takes Atlassian Document Format; Server v2 takes wiki text."""
        if not self._cloud:
            return text
        return {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.split("\n") if line.strip()
        ] or [{"type": "paragraph", "content": []}]}

    def _description(self, issue: Issue) -> Any:
        if not self._cloud:
            parts = [issue.summary] + [f"h3. {h}\n{t}" for h, t in issue.sections] + ["\n".join(f"*{n}:* {v}" for n, v in issue.facts), issue.marker]
            return "\n\n".join(parts)
        content: list[dict[str, Any]] = [{"type": "paragraph", "content": [{"type": "text", "text": issue.summary or "(no description)"}]}]
        for heading, text in issue.sections:
            content.append({"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": heading}]})
            content.append({"type": "paragraph", "content": [{"type": "text", "text": text}]})
        for name, value in issue.facts:
            content.append({"type": "paragraph", "content": [{"type": "text", "text": f"{name}: ", "marks": [{"type": "strong"}]}, {"type": "text", "text": value}]})
        content.append({"type": "paragraph", "content": [{"type": "text", "text": issue.marker}]})
        return {"type": "doc", "version": 1, "content": content}

    def _created(self, key: str) -> Created:
        return Created(external_id=key, key=key, url=f"{self._base}/browse/{key}")

    def find(self, issue: Issue) -> Created | None:
        jql = f'project = "{self._project}" AND labels = "{issue.label_marker}"'
        path = "/search/jql" if self._cloud else "/search"
        _, answer = call("GET", f"{self._api}{path}?{urlencode({'jql': jql, 'fields': 'summary', 'maxResults': 5})}", headers=self._headers, what="Jira search")
        found = (answer or {}).get("issues") or []
        return self._created(str(found[0]["key"])) if found else None

    def create(self, issue: Issue) -> Created:
        fields = {
            "project": {"key": self._project}, "summary": issue.title, "description": self._description(issue),
            "issuetype": {"name": self.issue_type}, "priority": {"name": self._priority.get(issue.severity, "Medium")},
            "labels": ["hypercare", f"severity-{issue.severity}", f"category-{issue.category}", issue.label_marker],
        }
        _, answer = call("POST", f"{self._api}/issue", headers=self._headers, body={"fields": fields}, what="Jira create issue")
        return self._created(str(answer["key"]))

    def comment(self, external_id: str, text: str) -> None:
        call("POST", f"{self._api}/issue/{external_id}/comment", headers=self._headers, body={"body": self._text(text)}, what="Jira comment")

    def set_severity(self, external_id: str, *, old: str, new: str) -> None:
        body = {"fields": {"priority": {"name": self._priority.get(new, "Medium")}},
                "update": {"labels": [{"remove": f"severity-{old}"}, {"add": f"severity-{new}"}]}}
        call("PUT", f"{self._api}/issue/{external_id}", headers=self._headers, body=body, what="Jira update priority")


class Linear:
    """Linear's GraphQL API over HTTP (an API key in Authorization, as Linear documents)."""

    def __init__(self, *, settings: Settings, team: str) -> None:
        if not settings.linear_api_key:
            raise Permanent("Linear is not configured", fix="set HYPERCARE_LINEAR_API_KEY (Linear → Settings → API → personal API keys)")
        self._url = settings.linear_api_url
        self._team = team
        self._headers = {"Authorization": settings.linear_api_key}
        self._priority = priorities(settings.linear_priorities, LINEAR_PRIORITY)

    def _gql(self, query: str, variables: dict[str, Any], *, what: str) -> dict[str, Any]:
        _, answer = call("POST", self._url, headers=self._headers, body={"query": query, "variables": variables}, what=what)
        errors = (answer or {}).get("errors") or []
        if errors:
            codes = {str((e.get("extensions") or {}).get("code") or "") for e in errors}
            message = "; ".join(str(e.get("message")) for e in errors)[:300]
            if codes & {"RATELIMITED", "INTERNAL_SERVER_ERROR"}:
                raise Transient(f"{what}: {message}")
            fix = "the API key was refused: check HYPERCARE_LINEAR_API_KEY" if "AUTHENTICATION_ERROR" in codes else "check the team key with `/hc tracker`"
            raise Permanent(f"{what}: {message}", fix=fix)
        return dict((answer or {}).get("data") or {})

    def _team_id(self) -> str:
        data = self._gql("query($key: String!) { teams(filter: {key: {eq: $key}}) { nodes { id key } } }", {"key": self._team}, what="Linear team")
        nodes = (data.get("teams") or {}).get("nodes") or []
        if not nodes:
            raise Permanent(f"Linear has no team with the key {self._team}", fix="check the team key (e.g. ENG) with `/hc tracker linear <KEY>`")
        return str(nodes[0]["id"])

    @staticmethod
    def _created(node: dict[str, Any]) -> Created:
        return Created(external_id=str(node["id"]), key=str(node["identifier"]), url=str(node.get("url") or ""))

    def find(self, issue: Issue) -> Created | None:
        data = self._gql(
            "query($team: String!, $marker: String!) { issues(filter: {team: {key: {eq: $team}}, description: {contains: $marker}}) { nodes { id identifier url } } }",
            {"team": self._team, "marker": issue.marker}, what="Linear find issue",
        )
        nodes = (data.get("issues") or {}).get("nodes") or []
        return self._created(nodes[0]) if nodes else None

    def create(self, issue: Issue) -> Created:
        team_id = self._team_id()
        labels = self._gql("query($names: [String!]) { issueLabels(filter: {name: {in: $names}}) { nodes { id name } } }",
                           {"names": issue.labels}, what="Linear labels")
        label_ids = [n["id"] for n in (labels.get("issueLabels") or {}).get("nodes") or []]
        variables = {"input": {"teamId": team_id, "title": issue.title, "description": issue.markdown(),
                               "priority": self._priority.get(issue.severity, 3), **({"labelIds": label_ids} if label_ids else {})}}
        data = self._gql("mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }", variables, what="Linear create issue")
        created = data.get("issueCreate") or {}
        if not created.get("success") or not created.get("issue"):
            raise Permanent("Linear did not create the issue", fix="check the team and required fields in Linear")
        return self._created(created["issue"])

    def comment(self, external_id: str, text: str) -> None:
        self._gql("mutation($input: CommentCreateInput!) { commentCreate(input: $input) { success } }",
                  {"input": {"issueId": external_id, "body": text}}, what="Linear comment")

    def set_severity(self, external_id: str, *, old: str, new: str) -> None:
        self._gql("mutation($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }",
                  {"id": external_id, "input": {"priority": self._priority.get(new, 3)}}, what="Linear priority")


def client_for(settings: Settings, *, tracker: str, target: str) -> Client:
    if tracker == "github":
        return GitHub(settings=settings, repo=target)
    if tracker == "jira":
        return Jira(settings=settings, project=target)
    if tracker == "linear":
        return Linear(settings=settings, team=target)
    raise Permanent(f"unknown tracker {tracker}", fix="use github, jira or linear")
