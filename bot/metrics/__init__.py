"""`GET /metrics`: the bot's own health in Prometheus' text format (prometheus-client)."""
from bot.metrics.exporter import CONTENT_TYPE, Metrics

__all__ = ["CONTENT_TYPE", "Metrics"]
