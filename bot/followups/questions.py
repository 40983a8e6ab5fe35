"""Follow-up questions: ask the reporter, once, in the thread, for the details a ticket lacks.

`ask` (from intake) names exactly what is missing, for the category, and sets `needs_info`;
`on_reply` reads the answers (bot.followups.answers), confirms, asks for the rest or restores the status;
`/hc ask` questions are recorded here. Reminders after N working hours are bot.followups.nudges. No Bolt;
posts go through the outbox.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from bot.delivery import outbox
from bot.followups import answers
from bot.tickets import blocks, cards, outbox_rows as ticket_delivery
from bot.errors import UserInputError
from bot.tickets.field_origins import FOUND_IN_EDIT, FOUND_IN_REPORT, Origin, field_origins, store_details
from bot.tickets.service import change, record
from bot.triage import mask_pii, slack_to_text
from models.followup_tables import Followup, FollowupQuestion
from models.tables import OutboxMessage, Ticket
from models.types import utcnow

CLOSED = ("resolved", "closed", "duplicate", "wont_fix")
ADD_DETAILS_ACTION = "followup_add_details"
DETAILS_VIEW = "hc_followup_details"


@dataclass(frozen=True)
class Prompt:
    label: str  # names the detail ("Steps to reproduce", "How slow"); question: what to tell
    question: str


BUG_PROMPTS = {
    "steps": Prompt("Steps to reproduce", "what did you do, step by step?"),
    "expected": Prompt("Expected behaviour", "what should have happened?"),
    "actual": Prompt("Actual behaviour", "what happened instead (the error or what you saw)?"),
    "environment": Prompt("Environment", "browser or app version, device, operating system?"),
}
# A performance report fills the same slots with "where, since when, how slow".
PERFORMANCE_PROMPTS = {
    "steps": Prompt("Where", "which page or action is slow?"),
    "expected": Prompt("Since when", "when did it start (and how fast was it before)?"),
    "actual": Prompt("How slow", "how long does it take?"),
    "environment": Prompt("Environment", "browser or app version, device, network?"),
}
NO_QUESTIONS = ("question", "feature_request", "documentation")


def prompts_for(category: str) -> dict[str, Prompt]:
    """What the bot may ask for, by category: a question or a feature request needs nothing."""
    if category in NO_QUESTIONS:
        return {}
    return PERFORMANCE_PROMPTS if category == "performance" else BUG_PROMPTS


def pending_details(ticket: Ticket) -> list[str]:
    prompts = prompts_for(ticket.category)
    return [d for d in ticket.missing if d in prompts]


# -- asking -----------------------------------------------------------------------------------
def ask(session: Session, *, ticket: Ticket) -> Followup | None:
    """Ask the reporter for what the new ticket lacks; once per ticket, never for closed ones."""
    pending = pending_details(ticket)
    if not pending or ticket.status in CLOSED or not ticket.channel or ticket.id is None:
        return None
    if _followup(session, ticket_id=ticket.id) is not None:
        return None
    if ticket.category == "performance":
        pending = _prefill(session, ticket, pending)
        if not pending:
            return None
    now = utcnow()
    followup = Followup(ticket_id=ticket.id, team_id=ticket.team_id, reporter=ticket.reporter, asked=pending,
                        previous_status=ticket.status, asked_at=now, last_asked_at=now)
    session.add(followup)
    change(session, ticket, actor=None, note="asked the reporter for: " + ", ".join(pending), status="needs_info")
    hello = f"<@{ticket.reporter}> thanks for reporting" if ticket.reporter else "Thanks for reporting"
    post(session, ticket, button=True, dedupe_key=f"followup:{ticket.id}:ask",
         text=f"{hello}! To look into *{ticket.key}* we need a bit more:\n{bullets(ticket, pending)}\n"
              "Just reply in this thread (one message or several), or use the button.")
    cards.refresh_card(session, ticket)
    return followup


def _prefill(session: Session, ticket: Ticket, pending: list[str]) -> list[str]:
    """Triage looks for steps and expected behaviour; a performance report's "since the deploy" or
    "takes 30 s" answer *since when* and *how slow*, so read the report for those before asking."""
    found = answers.understand(text=ticket.description, wanted=pending, category=ticket.category, context=False).fields
    fills = {d: v for d, v in found.items() if d in pending and d in ("expected", "actual")}
    if fills:
        change(session, ticket, actor=None, note=FOUND_IN_REPORT, missing=[d for d in ticket.missing if d not in fills], **fills)
    return [d for d in pending if d not in fills]


def bullets(ticket: Ticket, details: list[str]) -> str:
    prompts = prompts_for(ticket.category)
    return "\n".join(f"• *{prompts[d].label}*: {prompts[d].question}" for d in details)


def _names(ticket: Ticket, details: list[str]) -> str:
    prompts = prompts_for(ticket.category) or BUG_PROMPTS
    labels = [prompts[d].label.lower() if d in prompts else d for d in details]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def post(session: Session, ticket: Ticket, *, text: str, button: bool = False, dedupe_key: str | None = None) -> None:
    """A reply in the ticket's thread. `text` is the bot's own mrkdwn: user text in it went through safe()."""
    body: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if button:
        body.append({"type": "actions", "block_id": f"followup:{ticket.key}", "elements": [{
            "type": "button", "action_id": ADD_DETAILS_ACTION, "value": ticket.key, "style": "primary",
            "text": {"type": "plain_text", "text": "Add details"},
        }]})
    assert ticket.channel
    outbox.enqueue(
        session, method="chat.postMessage", team_id=ticket.team_id, ticket_id=ticket.id, dedupe_key=dedupe_key,
        params={"channel": ticket.channel, "thread_ts": ticket.thread_ts or ticket_delivery.TICKET_THREAD, "text": text, "blocks": body, "unfurl_links": False},
    )


def _followup(session: Session, *, ticket_id: int, lock: bool = False) -> Followup | None:
    query = select(Followup).where(Followup.ticket_id == ticket_id)
    if lock:  # PostgreSQL: a reply, the modal and the nudge job change one follow-up one at a time
        query = query.with_for_update()
    return session.execute(query).scalars().first()


def withdraw(session: Session, *, ticket: Ticket, reason: str) -> int:
    """The ticket needs no more details (closed as not an issue): stop asking, and shrink the
    questions already posted in its thread to one quiet line without the button, as its card is.
    Returns how many posted questions were quieted."""
    followup = _followup(session, ticket_id=ticket.id or 0, lock=True)
    if followup is not None and followup.state == "open":
        finish(session, followup, state="stopped", reason=reason)
    posts = session.execute(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id, OutboxMessage.method == "chat.postMessage",
                                    OutboxMessage.status.in_(("pending", "done"))).order_by(OutboxMessage.id)  # type: ignore[attr-defined]
    ).scalars().all()
    unsent = [row.id for row in posts if row.status == "pending" and _asks_for_details(row.params)]
    if unsent:  # not sent yet: never send it (a worker that already took one has it as "working")
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(unsent), OutboxMessage.status == "pending")  # type: ignore[union-attr]
                        .values(status="cancelled", finished_at=utcnow(), error=f"withdrawn: {reason}"))
    posted = [row for row in posts if row.status == "done"]
    quieted = 0
    for row in posted:
        result = row.result or {}
        if not result.get("ts") or not _asks_for_details(row.params):
            continue
        line = f"~Asked for more details on {ticket.key}~ not needed any more: {reason}."
        outbox.enqueue(
            session, method="chat.update", team_id=ticket.team_id, ticket_id=ticket.id,
            params={"channel": result.get("channel") or row.params.get("channel"), "ts": result["ts"], "text": blocks.bot_mrkdwn(line),
                    "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": blocks.bot_mrkdwn(line)}]}]},
        )
        quieted += 1
    return quieted


def _asks_for_details(params: dict[str, Any]) -> bool:
    """A post of ours with the "Add details" button (the question and its reminders)."""
    return any(
        element.get("action_id") == ADD_DETAILS_ACTION
        for block in params.get("blocks") or [] if isinstance(block, dict)
        for element in block.get("elements") or [] if isinstance(element, dict)
    )


# -- answers ----------------------------------------------------------------------------------
def on_reply(session: Session, *, ticket: Ticket, user: str, text: str, ts: str) -> None:
    """A person's reply in the ticket's thread (already kept in the history by intake)."""
    answered_question = _record_question_answers(session, ticket=ticket, user=user, text=text, ts=ts)
    followup = _followup(session, ticket_id=ticket.id or 0, lock=True)
    if followup is None or followup.state != "open":
        if followup is None or followup.state == "done":  # not after "never mind" (stopped)
            _late_details(session, ticket=ticket, user=user, text=text)
        return
    if ticket.status in CLOSED:
        finish(session, followup, state="stopped", reason=f"ticket is {ticket.status}")
        return
    pending = pending_details(ticket)
    if not pending:
        finish(session, followup, state="done", reason="nothing missing any more")
        _late_details(session, ticket=ticket, user=user, text=text)
        return
    understood = answers.understand(text=text, wanted=pending, category=ticket.category)
    if understood.not_an_issue and user == ticket.reporter:
        finish(session, followup, state="stopped", reason="the reporter said it is not an issue")
        _restore_status(session, ticket, followup, actor=user, note="the reporter said it is not an issue")
        post(session, ticket, text=f"Got it, <@{user}>: I won't ask for more details on *{ticket.key}*. "
                                   "If it can be closed, use *Not an issue* on the card.")
        cards.refresh_card(session, ticket)
        return
    current = {d: str(getattr(ticket, d)) for d in answers.DETAILS if getattr(ticket, d)}
    # The people involved (the reporter, those who joined the report) add to any detail, and their
    # labelled answer replaces a guess; anyone else only answers what is still missing.
    involved = user == ticket.reporter or user in ticket.affected_users
    origins = field_origins(session, ticket) if involved else {}
    guessed = [d for d, origin in origins.items() if origin.guessed]
    fills = answers.merge(current=current, understood=understood, pending=pending,
                          appendable=list(current) if involved else followup.answered, guessed=guessed)
    if fills:
        replaced = {d for d in fills if current.get(d) and d in understood.labelled and d in guessed}
        _apply(session, ticket, followup, fills=fills, actor=user, note="answer in the thread",
               said=understood.fields, replaced=replaced, origins=origins)
    elif user == ticket.reporter and understood.unclassified and not followup.hinted and not answered_question:
        followup.hinted = True  # said once: a conversation must not turn into a lecture
        session.add(followup)
        post(session, ticket, text=f"Thanks <@{user}>! I couldn't tell which detail that was. Starting a line with "
                                   f"*Steps:* or *Expected:* helps, or use the button. Still missing: {_names(ticket, pending)}.",
             button=True)


def fill_from_form(session: Session, *, ticket: Ticket, actor: str, values: dict[str, str | None]) -> dict[str, str]:
    """The "Add details" modal: what was typed goes straight into the fields it was typed in."""
    if ticket.status in CLOSED:
        raise UserInputError(f"{ticket.key} is {ticket.status.replace('_', ' ')}: it needs no more details. Thank you!")
    pending = pending_details(ticket)
    if not pending:
        return {}  # someone else filled them in meanwhile: nothing left to do
    fills = {d: answers.clip(mask_pii(slack_to_text(v or "")).strip()) for d, v in values.items() if d in pending and v and v.strip()}
    if not fills:
        raise UserInputError("Please fill in at least one of the fields.")
    followup = _followup(session, ticket_id=ticket.id or 0, lock=True)
    _apply(session, ticket, followup, fills=fills, actor=actor, note="added in the form")
    return fills


def fill_from_edit(session: Session, *, ticket: Ticket, actor: str, found: dict[str, str | None]) -> dict[str, str]:
    """The reporter edited the report and it now holds details still missing: that counts as an
    answer (people often fix their message instead of replying). Details already filled stay."""
    if ticket.status in CLOSED:
        return {}
    pending = pending_details(ticket)
    fills = {d: answers.clip(v) for d, v in found.items() if d in pending and v and v.strip()}
    if fills:
        _apply(session, ticket, _followup(session, ticket_id=ticket.id or 0, lock=True), fills=fills, actor=actor,
               note=FOUND_IN_EDIT)
    return fills


def _late_details(session: Session, *, ticket: Ticket, user: str, text: str) -> None:
    """Nothing is being asked any more, but the reporter (or someone who joined the report) labels a
    detail in the thread ("Actual: …"): it is recorded as an answer would be; unlabelled chat is not."""
    if ticket.status in CLOSED or ticket.category in NO_QUESTIONS or not (user == ticket.reporter or user in ticket.affected_users):
        return
    understood = answers.understand(text=text, wanted=[], category=ticket.category, context=False)
    labelled = {d: v for d, v in understood.fields.items() if d in understood.labelled}
    if not labelled:
        return
    current = {d: str(getattr(ticket, d)) for d in answers.DETAILS if getattr(ticket, d)}
    origins = field_origins(session, ticket)
    guessed = [d for d, origin in origins.items() if origin.guessed]
    fills = answers.merge(current=current, understood=understood, pending=[d for d in labelled if d not in current],
                          appendable=list(current), guessed=guessed)
    fills = {d: v for d, v in fills.items() if d in labelled}
    if not fills:
        return
    replaced = {d for d in fills if current.get(d) and d in guessed}
    recorded = store_details(session, ticket, fills=fills, actor=user, note="labelled detail in the thread", said=understood.fields,
                             replaced=replaced, origins=origins, name=lambda d: _names(ticket, [d]))
    post(session, ticket, text=f"Thanks <@{user}>, recorded {recorded} on *{ticket.key}*.")
    cards.refresh_card(session, ticket)


def _apply(
    session: Session, ticket: Ticket, followup: Followup | None, *, fills: dict[str, str], actor: str, note: str,
    said: dict[str, str] | None = None, replaced: set[str] | None = None, origins: dict[str, Origin] | None = None,
) -> None:
    """Store the details, confirm briefly, and ask for the rest or say thanks and move on."""
    missing = [d for d in ticket.missing if d not in fills]
    recorded = store_details(session, ticket, fills=fills, actor=actor, note=note, said=said or fills, replaced=replaced or set(),
                             origins=origins or {}, name=lambda d: _names(ticket, [d]))
    still = [d for d in missing if d in prompts_for(ticket.category)]
    if followup is not None and followup.state == "open":
        followup.answered = sorted(set(followup.answered) | set(fills))
        session.add(followup)
    if still:
        if followup is not None:
            followup.last_asked_at = utcnow()  # a new question: the reminder clock starts again
        text = f"Thanks <@{actor}>, recorded {recorded}. Still missing for *{ticket.key}*:\n{bullets(ticket, still)}"
        post(session, ticket, text=text, button=True)
    else:
        if followup is not None and followup.state == "open":
            finish(session, followup, state="done", reason="all details in")
            status = _restore_status(session, ticket, followup, actor=actor, note="all details in")
        else:
            status = ticket.status
        text = f"Thanks <@{actor}>, recorded {recorded}. *{ticket.key}* has everything the team needs now; its status is *{status}*."
        post(session, ticket, text=text)
    cards.refresh_card(session, ticket)


def _restore_status(session: Session, ticket: Ticket, followup: Followup, *, actor: str | None, note: str) -> str:
    if ticket.status == "needs_info":  # unless the team moved it on in the meantime
        change(session, ticket, actor=actor, note=note, status=followup.previous_status or "new")
    return ticket.status


def finish(session: Session, followup: Followup, *, state: str, reason: str) -> None:
    followup.state, followup.stop_reason, followup.closed_at = state, reason[:200], utcnow()
    session.add(followup)


# -- /hc ask ----------------------------------------------------------------------------------
def ask_question(session: Session, *, ticket: Ticket, asker: str, question: str) -> FollowupQuestion:
    """Post a triage person's question in the ticket's thread; the next reply is its answer."""
    text = mask_pii(slack_to_text(question)).strip()
    if not text:
        raise UserInputError("What should I ask? Put the question after the ticket key.", usage="/hc ask HC-12 <question>")
    if ticket.status in CLOSED:
        raise UserInputError(f"{ticket.key} is {ticket.status.replace('_', ' ')}, so I won't ask in its thread. Reopen it first.",
                             usage=f"/hc reopen {ticket.key}")
    if not ticket.channel:
        raise UserInputError(f"{ticket.key} has no Slack thread to ask in.")
    asked = FollowupQuestion(ticket_id=ticket.id or 0, team_id=ticket.team_id, asked_by=asker, question=text)
    session.add(asked)
    session.flush()
    record(session, ticket, actor=asker, kind="question", note=text)
    to = f"<@{ticket.reporter}> " if ticket.reporter and ticket.reporter != asker else ""
    quoted = "\n".join(f">{line}" for line in blocks.safe(text, limit=2000).splitlines())
    post(session, ticket, text=f"{to}<@{asker}> from the triage team asks about *{ticket.key}*:\n{quoted}\n"
                               "Please reply in this thread.", dedupe_key=f"followup:question:{asked.id}")
    return asked


def _record_question_answers(session: Session, *, ticket: Ticket, user: str, text: str, ts: str) -> bool:
    """A reply after a `/hc ask` question (by anyone but the asker) is its answer, kept on the ticket."""
    written = datetime.fromtimestamp(float(ts), tz=timezone.utc) if ts.replace(".", "", 1).isdigit() else utcnow()
    open_questions = session.execute(
        select(FollowupQuestion).where(
            FollowupQuestion.ticket_id == ticket.id, FollowupQuestion.answered_at.is_(None),  # type: ignore[union-attr]
            FollowupQuestion.asked_by != user, FollowupQuestion.asked_at <= written + timedelta(seconds=5),
        ).order_by(FollowupQuestion.id)
    ).scalars().all()
    answer = mask_pii(slack_to_text(text)).strip()
    if not open_questions or not answer:
        return False
    now = utcnow()
    for question in open_questions:
        question.answered_by, question.answer, question.answered_at = user, answer, now
        session.add(question)
        record(session, ticket, actor=user, kind="answer", note=f"Q: {question.question}\nA: {answer}")
    askers = " ".join(dict.fromkeys(f"<@{q.asked_by}>" for q in open_questions))
    post(session, ticket, text=f"{askers} <@{user}> answered; I recorded it on *{ticket.key}*.")
    return True


def waiting_on_reporters(session: Session, *, team_id: str, max_nudges: int) -> list[tuple[Ticket, Followup]]:
    """Tickets still in needs_info after every reminder was sent (the digest lists them)."""
    rows = session.execute(
        select(Ticket, Followup).join(Followup, Followup.ticket_id == Ticket.id)
        .where(Ticket.team_id == team_id, Ticket.status == "needs_info", Followup.state == "open", Followup.nudges_sent >= max_nudges)
        .order_by(Followup.asked_at)
    ).all()
    return [(row[0], row[1]) for row in rows]


# -- the modal --------------------------------------------------------------------------------
def details_view(ticket: Ticket) -> dict[str, Any]:
    """The "Add details" modal: one input per detail still missing, nothing else."""
    prompts = prompts_for(ticket.category)
    inputs = [{"type": "input", "block_id": d, "optional": True, "label": {"type": "plain_text", "text": prompts[d].label},
               "hint": {"type": "plain_text", "text": prompts[d].question.capitalize()},
               "element": {"type": "plain_text_input", "action_id": "value", "multiline": d != "environment", "max_length": answers.MAX_FIELD}}
              for d in pending_details(ticket)]
    return {
        "type": "modal", "callback_id": DETAILS_VIEW, "private_metadata": ticket.key,
        "title": {"type": "plain_text", "text": f"Details for {ticket.key}"[:24]},
        "submit": {"type": "plain_text", "text": "Add"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": blocks.safe(f"{ticket.key}: {ticket.title}", limit=300)}]}, *inputs],
    }
