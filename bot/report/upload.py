"""`/hc report`: the request is stored and answered at once; this job builds the report and
uploads it outside any transaction, then shares it through the outbox (files.completeUploadExternal
under a unique dedupe key), so it is posted once, also with two processes or after a crash."""
from __future__ import annotations

import logging
import urllib.request
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.delivery import outbox
from bot.report.gather import gather
from bot.report.render import render
from bot.runtime.settings import Settings
from models import digest_queries as dq
from models.dashboard_tables import ReportRequest
from models.db import session_scope

logger = logging.getLogger("hypercare.report")
CHECK_SECONDS = 5.0
STALE = timedelta(minutes=10)  # an upload claimed this long ago by a process that died is taken over
CONTENT_TYPES = {"html": "text/html", "md": "text/markdown"}


def request(session: Session, *, team_id: str, channel: str, user: str, fmt: str, since: datetime | None) -> ReportRequest:
    row = ReportRequest(team_id=team_id, channel=channel, requested_by=user, fmt=fmt, since=since)
    session.add(row)
    session.flush()
    return row


def _upload(client: WebClient, *, body: bytes, filename: str, content_type: str) -> str:
    answer = client.files_getUploadURLExternal(filename=filename, length=len(body))
    put = urllib.request.Request(str(answer["upload_url"]), data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(put, timeout=60) as response:  # noqa: S310 - Slack's own upload URL
        if response.status != 200:
            raise OSError(f"upload answered HTTP {response.status}")
    return str(answer["file_id"])


def _claimable(now: datetime) -> Any:
    """Waiting, or claimed so long ago that its process must have died."""
    return or_(ReportRequest.state == "pending", and_(ReportRequest.state == "uploading", ReportRequest.created_at < now - STALE))  # type: ignore[operator]


def share_pending(engine: Engine, client: WebClient, *, settings: Settings, now: datetime, owner: str) -> int:
    with dq.read_session(engine) as session:
        waiting = session.execute(select(ReportRequest.id).where(_claimable(now)).order_by(ReportRequest.id)).scalars().all()
    shared = 0
    for request_id in waiting:
        with session_scope(engine) as session:
            taken = session.execute(update(ReportRequest).where(ReportRequest.id == request_id, _claimable(now))
                                    .values(state="uploading", claimed_by=owner)).rowcount  # type: ignore[attr-defined]
        if taken == 1:
            shared += _share(engine, client, settings=settings, request_id=request_id, now=now)
    return shared


def _share(engine: Engine, client: WebClient, *, settings: Settings, request_id: int, now: datetime) -> int:
    with dq.read_session(engine) as session:
        row = session.get(ReportRequest, request_id)
        assert row is not None
        document = render(gather(session, team_id=row.team_id, settings=settings, now=now, since=row.since), fmt=row.fmt)
        team_id, channel, user, fmt = row.team_id, row.channel, row.requested_by, row.fmt
    name = f"hypercare-report-{now:%Y-%m-%d}.{fmt}"
    try:
        file_id = _upload(client, body=document.encode(), filename=name, content_type=CONTENT_TYPES[fmt])
    except (SlackApiError, OSError) as exc:
        error = str(exc.response.get("error") if isinstance(exc, SlackApiError) else exc)
        logger.info("report %s not uploaded: %s", request_id, error)
        with session_scope(engine) as session:
            session.execute(update(ReportRequest).where(ReportRequest.id == request_id).values(state="failed", error=error[:2000]))
            outbox.enqueue(session, method="chat.postEphemeral", team_id=team_id, dedupe_key=f"report-failed:{request_id}",
                           params={"channel": channel, "user": user, "text": f"I couldn't upload the report ({error}). `hypercare report` writes it from the server."})
        return 0
    with session_scope(engine) as session:
        row_ = outbox.enqueue(session, method="files.completeUploadExternal", team_id=team_id, dedupe_key=f"report:{request_id}",
                              params={"files": [{"id": file_id, "title": "Hypercare exit report"}], "channel_id": channel,
                                      "initial_comment": f"The hypercare exit report, asked for by <@{user}>."})
        row_.lane = channel
        session.execute(update(ReportRequest).where(ReportRequest.id == request_id).values(state="shared", file_id=file_id))
    return 1
