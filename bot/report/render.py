"""The exit report as Markdown or as one self-contained HTML file (charts inlined as SVG; in
Markdown, as PNG data URIs, which GitHub, Slack's preview and most viewers show)."""
from __future__ import annotations

import base64
import html
from datetime import timedelta
from typing import Any

from bot.charts import render_png, render_svg
from bot.report.gather import Report
from bot.tickets.sla import format_duration
from models.dashboard_tables import ROOT_CAUSE_LABEL, ROOT_CAUSES
from models.tables import CATEGORIES, SEVERITIES, STATUSES

CHARTS = ("backlog", "flow", "resolution", "causes")


def _duration(value: tuple[float | None, int]) -> str:
    seconds, count = value
    return "no data" if seconds is None else f"{format_duration(timedelta(seconds=seconds))} (median of {count})"


def _md(text: Any) -> str:
    """Table-cell safe: no pipes or newlines, no HTML."""
    return html.escape(" ".join(str(text or "").split())).replace("|", "\\|")


def _timeline(report: Report) -> list[list[str]]:
    flow = report.charts["flow"]
    if not flow.labels:
        return []
    totals = {group: [sum(s.values[i] for s in flow.series if s.group == group) for i in range(len(flow.labels))] for group in ("opened", "resolved")}
    return [["Day", "Opened", "Resolved"]] + [[day, f"{totals['opened'][i]:.0f}", f"{totals['resolved'][i]:.0f}"] for i, day in enumerate(flow.labels)]


def _sections(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, paragraphs, table rows with the header first) for every section, in order."""
    s = report.satisfaction
    period = f"since {report.since:%Y-%m-%d}" if report.since else "since hypercare began"
    return [
        ("Summary", [f"{report.total} tickets {period}; {report.open_total} still open. "
                     f"Median time to first response {_duration(report.medians['first_response'])}; "
                     f"to resolution {_duration(report.medians['resolution'])}."], []),
        ("Timeline", [], _timeline(report)),
        ("Severity mix", [], [["Severity", "Tickets"]] + [[sev, str(report.by_severity.get(sev, 0))] for sev in SEVERITIES]),
        ("Status", [], [["Status", "Tickets"]] + [[st.replace("_", " "), str(report.by_status[st])] for st in STATUSES if report.by_status.get(st)]),
        ("Categories", [], [["Category", "Tickets"]] + [[c.replace("_", " "), str(report.by_category[c])] for c in CATEGORIES if report.by_category.get(c)]),
        ("Top problems by affected people", [],
         [["Ticket", "Title", "Severity", "Status", "Affected", "Root cause", "Resolution"]] +
         [[f"HC-{p.number}", p.title, p.severity, p.status.replace("_", " "), str(p.affected), ROOT_CAUSE_LABEL.get(p.cause or "", "—"), p.resolution or "—"]
          for p in report.problems]),
        ("Root causes", [] if report.root_causes else ["No root causes were named."],
         [["Root cause", "Tickets"]] + [[ROOT_CAUSE_LABEL[c], str(report.root_causes[c])] for c in ROOT_CAUSES if report.root_causes.get(c)]
         if report.root_causes else []),
        ("SLA performance", [f"{report.breaches[0]} tickets missed their first-response target and {report.breaches[1]} their resolution target; "
                             f"{report.tiles['sla_breaches']} open tickets are past a target now."], []),
        ("Satisfaction", [f"{round(s.rate * 100)}% 👍 ({s.up} of {s.ratings} ratings)." if s.rate is not None else "Nobody rated a resolution."],
         [["Ticket", "Rating", "Comment"]] + [[k, "👍" if r == "up" else "👎", c] for k, r, c in report.comments] if report.comments else []),
        ("Exit criteria", ["No exit criteria were set."] if report.exit is None else [],
         [["Criterion", "Met", "Now"]] + [[r.text, "yes" if r.met else "no", r.now] for r in report.exit] if report.exit else []),
        (f"Still open — to hand over ({report.open_total})", [] if report.still_open else ["Nothing is open."],
         [["Ticket", "Title", "Severity", "Status", "Assignee", "Opened", "Affected"]] +
         [[f"HC-{t.number}", t.title, t.severity, t.status.replace("_", " "), t.assignee or "unassigned", f"{t.created_at.astimezone(report.tz):%Y-%m-%d}", str(t.affected)]
          for t in report.still_open] if report.still_open else []),
    ]


def markdown(report: Report) -> str:
    lines = [f"# Hypercare exit report — {report.team_id}", "",
             f"_As of {report.now.astimezone(report.tz):%Y-%m-%d %H:%M} ({report.tz.key})_", ""]
    for name in CHARTS:
        chart = report.charts[name]
        encoded = base64.b64encode(render_png(chart, width=8, height=3.6, dpi=80)).decode()
        lines += [f"![{chart.title}](data:image/png;base64,{encoded})", ""]
    for heading, paragraphs, rows in _sections(report):
        lines += [f"## {heading}", ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        if rows:
            lines.append("| " + " | ".join(_md(c) for c in rows[0]) + " |")
            lines.append("|" + "---|" * len(rows[0]))
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[1:]]
            lines.append("")
    return "\n".join(lines)


STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1e293b;--ink:#1e293b;--grid:#e2e8f0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left;vertical-align:top}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}.charts svg{width:100%;height:auto}
@media (prefers-color-scheme:dark){body{background:#0f172a;color:#e2e8f0;--ink:#e2e8f0;--grid:#334155}th,td{border-color:#334155}}"""


def to_html(report: Report) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>Hypercare exit report — {e(report.team_id)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Hypercare exit report — {e(report.team_id)}</h1><p><em>As of {report.now.astimezone(report.tz):%Y-%m-%d %H:%M} ({e(report.tz.key)})</em></p>",
             "<section class=\"charts\">" + "".join(f"<figure>{render_svg(report.charts[n])}</figure>" for n in CHARTS) + "</section>"]
    for heading, paragraphs, rows in _sections(report):
        parts.append(f"<h2>{e(heading)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in paragraphs]
        if rows:
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in rows[0]) + "</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows[1:]]
            parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render(report: Report, *, fmt: str) -> str:
    return to_html(report) if fmt == "html" else markdown(report)
