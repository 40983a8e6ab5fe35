"""manifest.yml: valid against Slack's published schema, in sync with the code, exact scopes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.runtime.manifest import BOT_EVENTS, METHODS_USED, SCOPE_FOR_METHOD, manifest, render_manifest, scopes_for

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.1.0.0.json"
CODE_DIRS = ("bot", "handlers", "models")


def methods_called_in_code() -> set[str]:
    """Every Web API method the code calls: client.chat_postMessage(...), method="chat.postMessage", api_call("…")."""
    found: set[str] = set()
    snake_to_method = {m.replace(".", "_"): m for m in SCOPE_FOR_METHOD}
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name in ("console.py", "local_slack.py", "local_slack_methods.py"):
                continue  # the local Slack answers methods, it does not call them
            source = path.read_text()
            for name in set(re.findall(r"client\.([a-z]+_[a-zA-Z_]+)\(", source)) - {"api_call"}:  # api_call: the outbox, counted by method=
                found.add(snake_to_method.get(name, name))
            found.update(re.findall(r'method="([a-z]+\.[a-zA-Z.]+)"', source))
            found.update(re.findall(r'api_call\("([a-z]+\.[a-zA-Z.]+)"', source))
    return found


@pytest.mark.skipif(not SCHEMA.exists(), reason="../shared/schemas is not beside this checkout")
@pytest.mark.parametrize("url", [None, "https://example.com"])
def test_manifest_validates_against_slack_schema(url: str | None) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest(url=url), schema)


def test_committed_manifest_is_the_generated_one() -> None:
    assert yaml.safe_load((ROOT / "manifest.yml").read_text()) == yaml.safe_load(render_manifest())


def test_scopes_are_exactly_what_the_code_uses() -> None:
    used = methods_called_in_code()
    unknown = used - set(SCOPE_FOR_METHOD)
    assert not unknown, f"add these methods to SCOPE_FOR_METHOD: {unknown}"
    assert used == METHODS_USED, f"METHODS_USED is stale: code calls {sorted(used)}"
    declared = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert declared == set(scopes_for(used))


def test_manifest_has_what_the_issue_lists() -> None:
    data = manifest()
    command = data["features"]["slash_commands"][0]
    assert command["command"] == "/hc" and command["should_escape"] is True and command["usage_hint"]
    assert data["features"]["shortcuts"][0]["name"] == "Create ticket"
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {"message.channels", "message.groups", "reaction_added", "app_home_opened"}
    assert set(BOT_EVENTS) == set(data["settings"]["event_subscriptions"]["bot_events"])
    assert data["settings"]["interactivity"]["is_enabled"] is True
