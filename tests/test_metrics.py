"""GET /metrics over HTTP: Prometheus text format, parsed with prometheus-client's own parser,
its numbers checked against the database."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import Ticket
from models.types import utcnow
from tests.conftest import RunningBot
from tests.dashboard_support import OTHER_TEAM, dash_bot, get, seed, seed_queues  # noqa: F401 - fixture

__all__ = ["dash_bot"]


def _samples(body: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def test_metrics_parse_and_match_the_database(dash_bot: RunningBot) -> None:
    now = utcnow()
    team = dash_bot.fake.team_id
    seed(dash_bot.engine, team_id=team, now=now)
    seed(dash_bot.engine, team_id=OTHER_TEAM, now=now)
    seed_queues(dash_bot.engine, now=now)
    answer = dash_bot.slack.command(text="help", user="U_T1")  # one acknowledgement for the histogram
    assert answer.status == 200
    status, body, headers = get(dash_bot.server.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _samples(body)

    with Session(dash_bot.engine) as session:
        expected = {(t, st, se): n for t, st, se, n in session.execute(
            select(Ticket.team_id, Ticket.status, Ticket.severity, func.count()).group_by(Ticket.team_id, Ticket.status, Ticket.severity)).all()}
    got = {(labels["team"], labels["status"], labels["severity"]): value for labels, value in samples["hypercare_tickets"]}
    assert got == {key: float(n) for key, n in expected.items()} and len(got) == 20  # 10 combinations in each of the two workspaces
    assert got[(team, "needs_info", "high")] == 1.0
    reports = {(l["team"], l["role"]): v for l, v in samples["hypercare_reports_received_total"]}
    assert reports[(team, "report")] == 10 and reports[(team, "duplicate")] == 1
    assert dict((l["state"], v) for l, v in samples["hypercare_inbox_depth"]) == {"pending": 1.0, "working": 0.0}
    assert dict((l["state"], v) for l, v in samples["hypercare_outbox_depth"])["pending"] >= 1.0
    assert 85 <= samples["hypercare_inbox_oldest_age_seconds"][0][1] < 600
    assert samples["hypercare_deliveries_failed_total"][0][1] == 2.0
    # Ticket 1 (critical, 3 days open) is past its 4 h resolution target; so are 3, 4, 5 (high 1 d, medium 3 d: only 3 d old ones)
    breaches = {(l["team"], l["severity"]): v for l, v in samples["hypercare_sla_breaches"]}
    assert breaches[(team, "critical")] == 1.0 and breaches[(team, "high")] == 2.0
    acks = {l["kind"]: v for l, v in samples["hypercare_ack_latency_seconds_count"]}
    assert acks["bolt"] >= 1.0
    assert any(l["le"] == "+Inf" and v >= 1.0 for l, v in samples["hypercare_ack_latency_seconds_bucket"] if l["kind"] == "bolt")
