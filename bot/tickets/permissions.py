"""Who may triage: the configured users, the configured user group's members, and people added
with `/hc triagers add`. When none of these is configured, everyone may (a fresh install works);
once someone is added, the last added member cannot be removed (that would open triage to everyone
again). Splitting a linked duplicate: the triage team or the two reporters (docs/safety.md).

The user group's members are resolved by the Slack adapter (handlers.directory) and handed in as
plain data; nothing here calls Slack.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from bot.errors import PermissionDenied, UserInputError
from bot.runtime.settings import Settings
from models.tables import Ticket
from models.triage_tables import TriageMember
from models.types import utcnow

USER_ID = re.compile(r"^[UW][A-Z0-9_]{2,}$")  # the console and tests use U_NAME ids
GROUP_ID = re.compile(r"^S[A-Z0-9_]{2,}$")
SHOW_AT_MOST = 8  # names listed in a refusal; a big user group is summarised


@dataclass(frozen=True)
class TriageTeam:
    configured: tuple[str, ...] = ()  # HYPERCARE_TRIAGE_USERS
    usergroup: str | None = None  # HYPERCARE_TRIAGE_USERGROUP
    usergroup_members: frozenset[str] = frozenset()
    added: tuple[str, ...] = ()  # /hc triagers add

    @property
    def is_configured(self) -> bool:
        return bool(self.configured or self.usergroup or self.added)

    def includes(self, user: str) -> bool:
        if not self.is_configured:
            return True
        return user in self.configured or user in self.added or user in self.usergroup_members

    def people(self) -> list[str]:
        """Everyone named individually (configured, then added), without repeats."""
        return list(dict.fromkeys([*self.configured, *self.added]))

    def mentions(self) -> str:
        """How to call the team in a post: each person and the user group (empty: nobody is set up)."""
        parts = [f"<@{u}>" for u in self.people() if USER_ID.match(u)]
        if self.usergroup and GROUP_ID.match(self.usergroup):
            parts.append(f"<!subteam^{self.usergroup}>")
        return " ".join(parts)


class NotTriager(PermissionDenied):
    """Refused: only the triage team (or the reporter, for their own ticket) may do this.

    `who` and `usergroup` let the reply name the people who can (bot.tickets.blocks.error_reply).
    """

    def __init__(self, message: str, *, team: TriageTeam) -> None:
        super().__init__(message, usage="/hc triagers list")
        self.who = tuple(u for u in team.people() if USER_ID.match(u))
        self.usergroup = team.usergroup if team.usergroup and GROUP_ID.match(team.usergroup) else None


def load_team(session: Session, *, team_id: str, settings: Settings, usergroup_members: frozenset[str] = frozenset()) -> TriageTeam:
    added = session.execute(
        select(TriageMember.user_id).where(TriageMember.team_id == team_id).order_by(TriageMember.added_at, TriageMember.user_id)
    ).scalars().all()
    return TriageTeam(
        configured=tuple(settings.triage_users), usergroup=settings.triage_usergroup,
        usergroup_members=frozenset(usergroup_members), added=tuple(added),
    )


def require_triager(team: TriageTeam, *, user: str, action: str) -> None:
    if not team.includes(user):
        raise NotTriager(f"Only the triage team can {action}. Ask one of them, or ask them to add you with `/hc triagers add`.", team=team)


def require_triager_or_reporter(team: TriageTeam, *, user: str, ticket: Ticket, action: str) -> None:
    """The reporter may always do this to their own ticket (close it, add details)."""
    if ticket.reporter and user == ticket.reporter:
        return
    if not team.includes(user):
        raise NotTriager(f"Only the triage team or the reporter of {ticket.key} can {action}. Ask one of them.", team=team)


def add_member(session: Session, *, team_id: str, user: str, added_by: str, team: TriageTeam) -> bool:
    """False when they could already triage as a named member (nothing changes)."""
    if user in team.configured or user in team.added:
        return False
    session.add(TriageMember(team_id=team_id, user_id=user, added_by=added_by, added_at=utcnow()))
    return True


def require_may_split(team: TriageTeam, *, user: str, ticket: Ticket, linked_reporter: str | None) -> None:
    """Splitting a linked duplicate off its ticket: the triage team, or the people involved (the
    ticket's reporter and whoever wrote the linked report), never a bystander."""
    if user in (ticket.reporter, linked_reporter):
        return
    if not team.includes(user):
        raise NotTriager(
            f"Only the triage team or the people who reported it can split a report off {ticket.key}. Ask one of them.", team=team)


def remove_member(session: Session, *, team_id: str, user: str, team: TriageTeam) -> None:
    """Remove someone added with `/hc triagers add`. The last one is refused: with nobody left (no
    configured users, no user group) everyone could triage again, which nobody asked for."""
    if user in team.configured:
        raise UserInputError("They are on the triage team through the HYPERCARE_TRIAGE_USERS setting; remove them there.")
    if user not in team.added:
        why = " (they are in the triage user group; change it in Slack)" if user in team.usergroup_members else ""
        raise UserInputError(f"They were not added with `/hc triagers add`{why}, so there is nothing to remove.")
    if not team.configured and not team.usergroup and set(team.added) == {user}:
        raise UserInputError(
            f"<@{user}> is the last person on the triage team; without them *everyone* could triage again. "
            "Add someone else first (`/hc triagers add @someone`), or configure the team with "
            "HYPERCARE_TRIAGE_USERS or HYPERCARE_TRIAGE_USERGROUP.", usage="/hc triagers add @user")
    member = session.get(TriageMember, (team_id, user))
    if member is not None:
        session.delete(member)
