"""`hypercare classify`: the live intake's triage over texts on stdin, one JSON result per line."""
from __future__ import annotations

import json
from typing import Any, TextIO

from bot.triage import Triage, triage


def parse_line(line: str) -> tuple[str, str | None] | None:
    """A JSON object with `text`, or with `title` and `body`; otherwise the line itself is the text."""
    stripped = line.strip()
    if not stripped:
        return None
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return stripped, None
        if isinstance(data, dict):
            if "text" in data:
                return str(data.get("text") or ""), data.get("title")
            if "title" in data or "body" in data:
                return str(data.get("body") or ""), str(data.get("title") or "") or None
    return stripped, None


def result_record(result: Triage) -> dict[str, Any]:
    return {
        "category": result.category,
        "severity": result.severity,
        "title": result.title,
        "missing": list(result.missing),
        "fields": dict(result.fields),
        "is_report": result.is_report,
    }


def classify_stream(source: TextIO, out: TextIO) -> int:
    count = 0
    for line in source:
        parsed = parse_line(line)
        if parsed is None:
            continue
        text, title = parsed
        out.write(json.dumps(result_record(triage(text=text, title=title)), ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count
