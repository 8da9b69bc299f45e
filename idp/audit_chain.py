"""The audit log as a hash chain: each event carries the hash of the one before it.

``hash = SHA-256(prev_hash + "\\n" + canonical JSON of the event's fields)``. Editing, removing
or inserting an event anywhere breaks the chain at that point, and ``moc-idp audit verify``
names the first event that no longer fits. Removing the newest events is caught by the chain
head, the one row that records the last hash. (Someone who can rewrite the whole table and the
head can rebuild a consistent chain: record the head hash that ``audit verify`` prints somewhere
else from time to time to anchor it.)

Events are chained when their transaction commits, not when they are recorded: the head row is
locked (row lock on PostgreSQL, the write lock on SQLite) only for the last instant of the
transaction, so two writers can never chain onto the same previous event, and a slow request
does not hold up every other writer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy import Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.db import db

GENESIS = "0" * 64
HEAD_ID = 1
PENDING = "idp.audit.pending"
HASHED_FIELDS = ("tag", "at", "actor_id", "subject_id", "client_id", "ip", "user_agent", "details")


class AuditChainHead(db.Model):
    """The newest link of the chain: a single row, locked by every append."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_event_id: Mapped[int | None] = mapped_column(Integer)


def canonical(row) -> bytes:
    """The event's fields as canonical JSON (sorted keys, no spaces): the same bytes on every
    backend, from the object being stored or from the row read back."""
    fields = {name: getattr(row, name) for name in HASHED_FIELDS}
    fields["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(prev_hash: str, row) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def queue(session, audit_event) -> None:
    """Chain ``audit_event`` when ``session``'s transaction commits."""
    session = session() if callable(session) else session  # the Session behind a scoped_session
    if not session.in_transaction():
        session.begin()  # so that a rollback, even of an otherwise empty transaction, drops it
    session.info.setdefault(PENDING, []).append(audit_event)


@event.listens_for(Session, "before_commit")
def _seal(session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    head = _locked_head(session)
    previous = head.last_hash
    for audit_event in pending:
        audit_event.prev_hash = previous
        audit_event.hash = previous = link_hash(previous, audit_event)
        session.add(audit_event)
    session.flush()
    head.last_hash, head.last_event_id = previous, pending[-1].id
    session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    # Events of a transaction that rolled back (or was closed) were never meant to be stored.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def _lock_statement():
    # A no-op UPDATE: on PostgreSQL it takes the head's row lock until commit; on SQLite it
    # takes the database write lock before the head is read, so no other writer slips between.
    return sa.update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(
        last_hash=AuditChainHead.last_hash)


def _locked_head(session) -> AuditChainHead:
    if session.execute(_lock_statement()).rowcount == 0:
        _create_head(session)
        session.execute(_lock_statement())
    return session.execute(
        sa.select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _create_head(session) -> None:
    """The head of an empty log, or of a log whose head row was lost (the chain goes on from
    the newest event, so a lost head does not hide anything: verify still walks every link)."""
    from idp.audit import AuditEvent

    newest = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    values = {"id": HEAD_ID, "last_hash": newest.hash if newest else GENESIS,
              "last_event_id": newest.id if newest else None}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases are above
        session.execute(sa.insert(AuditChainHead).values(**values))
        return
    # Two first writers may race to create the head: one inserts, the other does nothing.
    session.execute(insert(AuditChainHead).values(**values).on_conflict_do_nothing(
        index_elements=["id"]))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    broken_event_id: int | None = None
    problem: str | None = None


def verify_chain() -> ChainReport:
    """Walk the whole log, oldest first, and report the first event that does not fit."""
    from idp.audit import AuditEvent

    previous, previous_id, checked = GENESIS, None, 0
    rows = db.session.execute(
        sa.select(AuditEvent.__table__).order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    for row in rows:
        if row.prev_hash != previous:
            after = f"event {previous_id}" if previous_id else "the start of the log"
            return ChainReport(False, checked, previous, row.id,
                               f"does not follow {after}: an event between them was removed, "
                               "inserted or changed")
        if link_hash(previous, row) != row.hash:
            return ChainReport(False, checked, previous, row.id, "was changed after it was recorded")
        previous, previous_id, checked = row.hash, row.id, checked + 1
    head = db.session.get(AuditChainHead, HEAD_ID)
    if checked and (head is None or head.last_hash != previous):
        return ChainReport(False, checked, previous, head.last_event_id if head else None,
                           "the chain head does not match the newest event: newer events were removed")
    return ChainReport(True, checked, previous)
