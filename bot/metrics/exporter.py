"""The metrics one server exposes: database figures collected at scrape time, and the
acknowledgement latency measured in this process.

A registry per server (not prometheus-client's global one), so two bots in one process (tests,
the console next to a server) never share or double-register a metric.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from bot.runtime.settings import Settings
from bot.tickets.sla import targets
from models import digest_queries as dq
from models import metrics_queries as mq
from models.types import utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack gives 3 s; the buckets are dense where acknowledgements really fall (milliseconds).
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class DatabaseCollector(Collector):
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._targets = targets(settings)

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with dq.read_session(self._engine) as session:
            tickets = GaugeMetricFamily("hypercare_tickets", "Tickets by workspace, status and severity.", labels=["team", "status", "severity"])
            for team, status, severity, count in mq.tickets_by_status_severity(session):
                tickets.add_metric([team, status, severity], count)
            yield tickets
            reports = CounterMetricFamily("hypercare_reports_received", "Slack messages filed into tickets (role: report or duplicate).", labels=["team", "role"])
            for team, role, count in mq.reports_received(session):
                reports.add_metric([team, role], count)
            yield reports
            for name, model in mq.MODELS.items():
                depth = GaugeMetricFamily(f"hypercare_{name}_depth", f"Rows in the {name} not yet done, by state.", labels=["state"])
                age = GaugeMetricFamily(f"hypercare_{name}_oldest_age_seconds", f"Age of the oldest {name} row not yet done (0: none).")
                states = mq.queue_depth(session, model)
                oldest: list[datetime] = []
                for state, (count, first) in states.items():
                    depth.add_metric([state], count)
                    if first is not None:
                        oldest.append(first)
                age.add_metric([], max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0)
                yield depth
                yield age
            yield CounterMetricFamily("hypercare_deliveries_failed", "Outbox Web API calls given up on for good.", value=mq.failed(session, mq.MODELS["outbox"]))
            yield CounterMetricFamily("hypercare_inbox_failed", "Stored Slack events whose handling failed for good.", value=mq.failed(session, mq.MODELS["inbox"]))
            breaches = GaugeMetricFamily("hypercare_sla_breaches", "Open tickets past their first-response or resolution target.", labels=["team", "severity"])
            for team, severity, count in mq.sla_breaching(session, targets=self._targets, now=now):
                breaches.add_metric([team, severity], count)
            yield breaches


class Metrics:
    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(DatabaseCollector(engine=engine, settings=settings))
        self.ack_latency = Histogram(
            "hypercare_ack_latency_seconds", "Time from a Slack request's arrival to its acknowledgement, by kind.",
            labelnames=["kind"], buckets=ACK_BUCKETS, registry=self.registry,
        )

    def observe_ack(self, *, kind: str, seconds: float) -> None:
        self.ack_latency.labels(kind=kind).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
