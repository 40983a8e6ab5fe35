"""What a chart shows, independent of how it is drawn: the digest's PNG, the dashboard's SVG
and the exit report's images all come from one of these."""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("stacked_bar", "paired_stacked_bar", "stacked_area", "bar", "hbar", "line")
# Severity colours, shared by every chart and the page (readable on light and dark backgrounds).
SEVERITY_COLORS = {"critical": "#dc2626", "high": "#f97316", "medium": "#eab308", "low": "#94a3b8"}
PALETTE = ("#2563eb", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#64748b")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    color: str | None = None
    group: str = ""  # paired_stacked_bar: which bar of the pair ("opened" / "resolved")


@dataclass(frozen=True)
class Chart:
    kind: str  # one of KINDS
    title: str
    labels: tuple[str, ...]  # the x categories (days, severities, causes)
    series: tuple[Series, ...]
    y_label: str = ""
    note: str = ""  # a line under the title (what the pale bars are, the unit)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)

    def fingerprint(self) -> str:
        """Changes when anything drawn changes: the page re-fetches a chart only then."""
        import hashlib

        raw = repr((self.kind, self.title, self.labels, self.series, self.y_label, self.note))
        return hashlib.sha1(raw.encode()).hexdigest()[:16]
