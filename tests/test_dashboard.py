"""The dashboard over HTTP: `/hc dashboard` hands out a signed link; the link shows its own
workspace and nothing else; forged, expired and revoked links get a bare 403."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlmodel import Session

from bot.dashboard import links
from models.types import utcnow
from tests.conftest import RunningBot
from tests.dashboard_support import OTHER_TEAM, dash_bot, get, seed  # noqa: F401 - fixture

__all__ = ["dash_bot"]


def _link(bot: RunningBot, text: str = "dashboard", user: str = "U_T1") -> str:
    answer = bot.slack.command(text=text, user=user)
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    found = re.search(r"https://hc\.example\.com/dashboard\?k=[\w.\-]+", body["text"])
    assert found, body["text"]
    return found.group(0)


def _local(bot: RunningBot, url: str, path: str = "/dashboard") -> str:
    """The link as the bot serves it here (the public URL stands for this server)."""
    return f"{bot.server.url}{path}?{urlsplit(url).query}"


def test_a_signed_link_shows_the_workspace(dash_bot: RunningBot) -> None:
    now = utcnow()
    expected = seed(dash_bot.engine, team_id=dash_bot.fake.team_id, now=now)
    url = _link(dash_bot)
    status, page, headers = get(_local(dash_bot, url))
    assert status == 200 and "<title>Hypercare dashboard</title>" in page and headers["Referrer-Policy"] == "no-referrer"
    status, body, _ = get(_local(dash_bot, url, "/dashboard/data.json"))
    assert status == 200
    data = json.loads(body)
    tiles = data["tiles"]
    assert tiles["open_by_severity"] == {"critical": expected["open_critical"], "high": expected["open_high"],
                                         "medium": expected["open_medium"], "low": expected["open_low"]}
    assert (tiles["waiting"], tiles["satisfaction"], data["tickets"]["total"]) == (expected["waiting"], expected["satisfaction"], 10)
    assert {r["key"] for r in data["tickets"]["rows"]} == {f"HC-{n}" for n in range(1, 11)}
    assert data["problems"][0]["key"] == "HC-2" and data["problems"][0]["affected"] == 9
    assert data["tickets"]["rows"][0]["permalink"].startswith("https://fake.slack.com/")
    # filters: severity and words narrow the table
    status, body, _ = get(_local(dash_bot, url, "/dashboard/data.json") + "&severity=high&status=open")
    assert {r["key"] for r in json.loads(body)["tickets"]["rows"]} == {"HC-3", "HC-4", "HC-10"}
    status, body, _ = get(_local(dash_bot, url, "/dashboard/data.json") + "&words=Documentation")
    assert [r["key"] for r in json.loads(body)["tickets"]["rows"]] == ["HC-7"]
    for name in ("backlog", "flow", "resolution", "categories", "causes"):
        status, svg, headers = get(_local(dash_bot, url, f"/dashboard/chart/{name}.svg"))
        assert status == 200 and headers["Content-Type"] == "image/svg+xml" and svg.startswith("<svg ") and "<path" in svg, name


def test_forged_expired_revoked_and_missing_links_are_refused(dash_bot: RunningBot) -> None:
    seed(dash_bot.engine, team_id=dash_bot.fake.team_id, now=utcnow())
    url = _link(dash_bot)
    token = urlsplit(url).query.removeprefix("k=")
    link_id, expiry, signature = token.split(".")
    forged = [
        "",  # no link at all
        f"{link_id}.{expiry}.{signature[:-2]}AA",  # signature tampered
        f"{link_id}.{int(expiry) + 86400}.{signature}",  # expiry pushed out
        f"{int(link_id) + 1}.{expiry}.{signature}",  # another link's id
        "garbage",
        f"99999999999999999999.{expiry}.{signature}",  # an id no integer column holds
        f"{link_id}.{expiry}.{signature}.{signature}",
    ]
    for bad in forged:
        for path in ("/dashboard", "/dashboard/data.json", "/dashboard/chart/backlog.svg"):
            status, body, _ = get(f"{dash_bot.server.url}{path}?k={bad}")
            assert (status, body) == (403, "Forbidden"), (bad, path)
    # expired: a link made 13 hours ago (personal links last 12 h)
    with Session(dash_bot.engine) as session:
        _, old = links.create(session, settings=dash_bot.hypercare.settings, team_id=dash_bot.fake.team_id, user="U_T1",
                              kind="personal", now=utcnow() - timedelta(hours=13))
        session.commit()
    assert get(f"{dash_bot.server.url}/dashboard/data.json?k={old}")[:2] == (403, "Forbidden")
    # a shared link works until revoked; revoking ends it (and the personal one)
    shared = _link(dash_bot, "dashboard share")
    assert get(_local(dash_bot, shared, "/dashboard/data.json"))[0] == 200
    assert get(_local(dash_bot, url, "/dashboard/data.json"))[0] == 200
    answer = dash_bot.slack.command(text="dashboard revoke", user="U_T1").json()
    assert answer["text"].startswith("Revoked 2 dashboard links")
    assert get(_local(dash_bot, shared, "/dashboard/data.json"))[:2] == (403, "Forbidden")
    assert get(_local(dash_bot, url))[:2] == (403, "Forbidden")


def test_share_and_revoke_are_for_the_triage_team(dash_bot: RunningBot) -> None:
    for text in ("dashboard share", "dashboard revoke"):
        answer = dash_bot.slack.command(text=text, user="U_SOMEONE").json()
        assert answer["response_type"] == "ephemeral" and "https://" not in answer["text"], answer
    assert "valid for 12 hours" in dash_bot.slack.command(text="dashboard", user="U_SOMEONE").json()["text"]


def test_another_workspace_link_shows_none_of_these_tickets(dash_bot: RunningBot) -> None:
    now = utcnow()
    seed(dash_bot.engine, team_id=dash_bot.fake.team_id, now=now, prefix="OURS ")
    seed(dash_bot.engine, team_id=OTHER_TEAM, now=now, prefix="THEIRS ")
    with Session(dash_bot.engine) as session:
        _, theirs = links.create(session, settings=dash_bot.hypercare.settings, team_id=OTHER_TEAM, user="U_X", kind="personal")
        session.commit()
    status, body, _ = get(f"{dash_bot.server.url}/dashboard/data.json?k={theirs}")
    assert status == 200
    data = json.loads(body)
    assert data["team"] == OTHER_TEAM and data["tickets"]["total"] == 10
    assert "OURS" not in body and all(r["title"].startswith("THEIRS ") for r in data["tickets"]["rows"] + data["problems"])
    # the filters cannot reach across: a team parameter is not a filter at all
    status, body, _ = get(f"{dash_bot.server.url}/dashboard/data.json?k={theirs}&team={dash_bot.fake.team_id}")
    assert "OURS" not in body


def test_figures_are_recomputed_in_the_background_once_stale(fake_slack, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import start_bot, stop_bot

    bot = start_bot(fake=fake_slack, database_url=database_url, scheduler_enabled=False, public_url="https://hc.example.com",
                    dashboard_cache_seconds=0.5)
    try:
        seed(bot.engine, team_id=bot.fake.team_id, now=utcnow())
        data_url = _local(bot, _link(bot), "/dashboard/data.json")
        assert json.loads(get(data_url)[1])["tiles"]["open"] == 6
        import time

        from models.tables import Ticket

        with Session(bot.engine) as session:
            session.add(Ticket(team_id=bot.fake.team_id, number=11, title="The login page loops after SSO", severity="high"))
            session.commit()

        time.sleep(0.6)
        stale = json.loads(get(data_url)[1])  # answered at once with the old figures; the table is fresh
        assert stale["tiles"]["open"] == 6 and stale["tickets"]["total"] == 11
        for _ in range(50):
            time.sleep(0.1)
            if json.loads(get(data_url)[1])["tiles"]["open"] == 7:
                break
        else:
            raise AssertionError("the figures were never recomputed")
    finally:
        stop_bot(bot)
