"""The digest's chart: tickets opened vs resolved per day over the hypercare period, by severity.

Drawn as a PNG by a few lines of pure Python (zlib + struct and a 5×7 pixel font), so the bot
needs no imaging library. Shared after the digest with the files upload API: the upload URL is
asked for and the bytes sent (invisible until completed), then files.completeUploadExternal goes
through the outbox under a unique dedupe key, in the channel's lane right behind the digest, so
the chart is shared once and after its digest. A workspace that refuses files just gets no chart.
"""
from __future__ import annotations

import logging
import struct
import urllib.request
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.delivery import outbox
from models import digest_queries as dq
from models.db import session_scope
from models.digest_tables import DigestRun
from models.tables import SEVERITIES

logger = logging.getLogger("hypercare.digest")
MAX_DAYS = 28
CHART_WINDOW = timedelta(minutes=15)  # a chart not shared by then is left out rather than posted late
Color = tuple[int, int, int]
COLORS: dict[str, Color] = {"critical": (220, 38, 38), "high": (249, 115, 22), "medium": (234, 179, 8), "low": (148, 163, 184)}
INK, GRID, PAPER = (30, 41, 59), (226, 232, 240), (255, 255, 255)
W, H, LEFT, RIGHT, TOP, BOTTOM, SCALE = 960, 440, 70, 24, 84, 44, 2
# 5×7 glyphs, one hex byte per row (bit 4 = leftmost pixel). Upper case is all the chart writes.
FONT = {
    "0": "0E11131519110E", "1": "040C040404040E", "2": "0E11010204081F", "3": "1F02040201110E",
    "4": "02060A121F0202", "5": "1F101E0101110E", "6": "0608101E11110E", "7": "1F010204080808",
    "8": "0E11110E11110E", "9": "0E11110F01020C", "A": "0E1111111F1111", "B": "1E11111E11111E",
    "C": "0E11101010110E", "D": "1C12111111121C", "E": "1F10101E10101F",
    "F": "1F10101E101010", "G": "0E11101711110F", "H": "1111111F111111", "I": "0E04040404040E",
    "J": "0702020202120C", "K": "11121418141211", "L": "1010101010101F", "M": "111B1515111111",
    "N": "11111915131111", "O": "0E11111111110E", "P": "1E11111E101010", "Q": "0E11111115120D",
    "R": "1E11111E141211", "S": "0F10100E01011E", "T": "1F040404040404", "U": "1111111111110E",
    "V": "11111111110A04", "W": "1111111515150A", "X": "11110A040A1111", "Y": "1111110A040404",
    "Z": "1F01020408101F", "-": "0000001F000000", ":": "000C0C000C0C00", "/": "00010204081000",
    ".": "00000000000C0C", "(": "02040808080402", ")": "08040202020408", " ": "00000000000000",
}


@dataclass(frozen=True)
class ChartData:
    days: list[date]
    opened: dict[date, dict[str, int]]
    resolved: dict[date, dict[str, int]]

    @property
    def empty(self) -> bool:
        return not self.opened and not self.resolved


def load(session: Session, *, team_id: str, now: datetime, tz: ZoneInfo) -> ChartData | None:
    """Per-day counts (SQL) from the first ticket, or the last MAX_DAYS days, up to `now`."""
    began = dq.first_ticket_at(session, team_id=team_id)
    if began is None:
        return None
    today = now.astimezone(tz).date()
    first = max(began.astimezone(tz).date(), today - timedelta(days=MAX_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)

    bounds = [(day, midnight(day), min(midnight(day + timedelta(days=1)), now + timedelta(microseconds=1))) for day in days]
    counts = dq.per_day(session, team_id=team_id, days=bounds)
    return ChartData(days=days, opened=counts["opened"], resolved=counts["resolved"])


# -- drawing ----------------------------------------------------------------------------------
class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(PAPER) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x1 <= x0:
            return
        run = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(run)] = run

    def text(self, x: int, y: int, words: str, color: Color = INK, scale: int = SCALE) -> int:
        """Write upper-cased text with its top-left at (x, y); returns the x after it."""
        for char in words.upper():
            glyph = FONT.get(char, FONT[" "])
            for row in range(7):
                bits = int(glyph[row * 2:row * 2 + 2], 16)
                for col in range(5):
                    if bits & (0x10 >> col):
                        self.rect(x + col * scale, y + row * scale, x + (col + 1) * scale, y + (row + 1) * scale, color)
            x += 6 * scale
        return x

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride]) for y in range(self.height))

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _tint(color: Color) -> Color:
    return tuple(c + (255 - c) * 11 // 20 for c in color)  # type: ignore[return-value]


def _nice_top(value: int) -> tuple[int, int]:
    """A round axis maximum and its step: at most 5 gridlines, each 1, 2 or 5 × 10ⁿ."""
    step, factors = 1, (2, 5, 10)
    magnitude = 1
    while step * 5 < value:
        for factor in factors:
            step = magnitude * factor
            if step * 5 >= value:
                break
        magnitude *= 10
    return -(-value // step) * step, step


def render_png(data: ChartData) -> bytes:
    canvas = Canvas(W, H)
    canvas.text(LEFT, 14, "Tickets opened vs resolved per day")
    x = canvas.text(LEFT, 44, "Left: opened  Right (pale): resolved   ", scale=SCALE)
    for severity in SEVERITIES:
        canvas.rect(x, 44, x + 14, 58, COLORS[severity])
        x = canvas.text(x + 20, 44, severity) + 16
    plot_w, plot_h, base = W - LEFT - RIGHT, H - TOP - BOTTOM, H - BOTTOM
    peak = max([sum(d.values()) for d in (*data.opened.values(), *data.resolved.values())] or [0])
    top, step = _nice_top(max(peak, 1))
    for value in range(0, top + 1, step):
        y = base - value * plot_h // top
        canvas.rect(LEFT, y, W - RIGHT, y + 1, GRID)
        label = str(value)
        canvas.text(LEFT - 8 - len(label) * 6 * SCALE, y - 7, label)
    slot = plot_w / max(1, len(data.days))
    bar = max(1, int(slot * 0.36))
    every = max(1, -(-len(data.days) * 6 * SCALE * 5 // plot_w))  # day labels that do not overlap
    for index, day in enumerate(data.days):
        left = LEFT + int(index * slot + slot * 0.12)
        for offset, counts, shade in ((0, data.opened.get(day, {}), False), (bar + 1, data.resolved.get(day, {}), True)):
            y = base
            for severity in SEVERITIES:
                height = counts.get(severity, 0) * plot_h // top
                color = _tint(COLORS[severity]) if shade else COLORS[severity]
                canvas.rect(left + offset, y - height, left + offset + bar, y, color)
                y -= height
        if index % every == 0:
            canvas.text(left, base + 10, f"{day:%m-%d}", scale=SCALE)
    canvas.rect(LEFT, base, W - RIGHT, base + 2, INK)
    return canvas.png()


# -- sharing ----------------------------------------------------------------------------------
def upload(client: WebClient, *, png: bytes, filename: str) -> str:
    """Ask for an upload URL and send the bytes; the file stays invisible until completed."""
    answer = client.files_getUploadURLExternal(filename=filename, length=len(png))
    request = urllib.request.Request(str(answer["upload_url"]), data=png, method="POST", headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - Slack's own upload URL
        if response.status != 200:
            raise OSError(f"upload answered HTTP {response.status}")
    return str(answer["file_id"])


def share_pending(engine: Engine, client: WebClient, *, now: datetime, owner: str) -> int:
    """Upload and share each digest's chart that is waiting (claimed row by row: one process each)."""
    with dq.read_session(engine) as session:
        waiting = session.execute(select(DigestRun.id).where(
            DigestRun.chart_state == "pending", DigestRun.created_at >= now - CHART_WINDOW).order_by(DigestRun.id)).scalars().all()
    shared = 0
    for run_id in waiting:
        with session_scope(engine) as session:  # the claim: only the process whose update matched goes on
            taken = session.execute(update(DigestRun).where(DigestRun.id == run_id, DigestRun.chart_state == "pending")
                                    .values(chart_state="uploading", claimed_by=owner)).rowcount  # type: ignore[attr-defined]
        if taken == 1:
            shared += _share(engine, client, run_id=run_id)
    return shared


def _share(engine: Engine, client: WebClient, *, run_id: int) -> int:
    with session_scope(engine) as session:
        run = session.get(DigestRun, run_id)
        assert run is not None
        tz = ZoneInfo(run.timezone)
        data = load(session, team_id=run.team_id, now=run.as_of, tz=tz)
    if data is None or data.empty:
        return _finish(engine, run_id, state="off", error="no tickets to chart")
    name = f"hypercare-{run.as_of.astimezone(tz):%Y-%m-%d-%H%M}.png"
    try:
        file_id = upload(client, png=render_png(data), filename=name)
    except SlackApiError as exc:  # files not allowed, no files:write scope, …: the digest stands alone
        return _finish(engine, run_id, state="failed", error=str(exc.response.get("error") or exc))
    except OSError as exc:
        return _finish(engine, run_id, state="failed", error=f"upload failed: {exc}")
    with session_scope(engine) as session:
        params = {"files": [{"id": file_id, "title": "Opened vs resolved per day"}], "channel_id": run.channel,
                  "initial_comment": f"Tickets opened vs resolved per day ({tz.key} days), by severity."}
        row = outbox.enqueue(session, method="files.completeUploadExternal", params=params, team_id=run.team_id,
                             dedupe_key=f"digest-chart:{run_id}")
        row.lane = run.channel  # queued behind the digest's own post in that channel, so it follows it
        session.execute(update(DigestRun).where(DigestRun.id == run_id).values(chart_state="shared", chart_file_id=file_id))
    return 1


def _finish(engine: Engine, run_id: int, *, state: str, error: str) -> int:
    logger.info("digest %s: no chart (%s)", run_id, error)
    with session_scope(engine) as session:
        session.execute(update(DigestRun).where(DigestRun.id == run_id).values(chart_state=state, chart_error=error[:2000]))
    return 0
