"""Reading the audit log: filters, the page's rows and the CSV export of the same view.

Citizen IDs never appear here because they are never recorded (idp.audit masks anything shaped
like one at record time).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select

from idp.accounts.models import User
from idp.accounts.service import find_by_email, find_by_sub
from idp.audit import AuditEvent
from idp.db import db
from idp.i18n import BANGKOK

PAGE_SIZE = 200
CSV_COLUMNS = ("id", "at", "tag", "actor", "subject", "client_id", "ip", "user_agent", "details")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    tag_prefix: str = ""
    actor: str = ""  # email or subject id
    subject: str = ""
    since: date | None = None  # Thai calendar days, inclusive
    until: date | None = None

    def query_args(self) -> dict:
        """The filter as query-string arguments (for links to other pages)."""
        args = {"tag": self.tag_prefix, "actor": self.actor, "subject": self.subject,
                "since": self.since.isoformat() if self.since else "",
                "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in args.items() if v}


def _person_id(value: str) -> int:
    """The account id named by an email or a subject id; -1 (matches nothing) if none."""
    user = find_by_email(value) if "@" in value else find_by_sub(value.strip())
    return user.id if user else -1


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), BANGKOK)


def _select(f: AuditFilter) -> Select:
    query = db.select(AuditEvent)
    if f.tag_prefix.strip():
        query = query.where(AuditEvent.tag.startswith(f.tag_prefix.strip(), autoescape=True))
    if f.actor.strip():
        query = query.where(AuditEvent.actor_id == _person_id(f.actor))
    if f.subject.strip():
        query = query.where(AuditEvent.subject_id == _person_id(f.subject))
    if f.since:
        query = query.where(AuditEvent.at >= _day_start(f.since))
    if f.until:
        query = query.where(AuditEvent.at < _day_start(f.until + timedelta(days=1)))
    return query


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    tag: str
    actor: str
    subject: str
    client_id: str
    ip: str
    user_agent: str
    details: str


def _emails(events: list[AuditEvent]) -> dict[int, str]:
    ids = {i for e in events for i in (e.actor_id, e.subject_id) if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(db.select(User.id, User.email).where(User.id.in_(ids))).all()
    return dict(rows)


def _rows(events: list[AuditEvent]) -> list[AuditRow]:
    emails = _emails(events)

    def person(user_id):
        """How an event shows an account: its email, or ``#id``."""
        return "" if user_id is None else emails.get(user_id, f"#{user_id}")

    return [AuditRow(e.id, e.at, e.tag, person(e.actor_id), person(e.subject_id), e.client_id or "",
                     e.ip or "", e.user_agent or "",
                     json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True))
            for e in events]


def find_events(f: AuditFilter, limit: int = PAGE_SIZE) -> list[AuditRow]:
    """The newest events that pass the filter."""
    events = db.session.execute(_select(f).order_by(AuditEvent.id.desc()).limit(limit)).scalars()
    return _rows(list(events))


def _cell(value) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_csv(f: AuditFilter, batch: int = 1000) -> Iterator[str]:
    """Every event that passes the filter, oldest first, as CSV text in pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    last_id = 0
    while True:
        events = list(db.session.execute(
            _select(f).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)).scalars())
        for row in _rows(events):
            writer.writerow([_cell(getattr(row, name)) for name in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < batch:
            return
        last_id = events[-1].id
        db.session.expunge_all()
