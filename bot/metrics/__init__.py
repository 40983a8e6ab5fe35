"""`GET /metrics`: the bot's own health in Prometheus' text format (prometheus-client)."""
from bot.metrics.exporter import Metrics

__all__ = ["Metrics"]
