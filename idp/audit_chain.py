"""The audit log as a hash chain: each sealed event carries the hash of the one before it.

``hash = SHA-256(prev_hash + "\\n" + canonical JSON of the event's fields)``. A request stores
its events unsealed (no hash yet), so no sign-in waits on another. A sealer then links the
unsealed events into the chain, oldest id first, in batches, giving each its place
(``chain_seq``): a background thread in each process after commits that recorded events, the
``moc-idp audit seal`` job, ``moc-idp audit verify`` and the console's check. The sealer holds
the chain head's lock (row lock on PostgreSQL, the write lock on SQLite) only for its own short
transaction, never inside a request.

What the chain proves: from the moment an event is sealed, editing, removing or inserting a
sealed event anywhere breaks the chain at that point, and ``audit verify`` names the first
event that no longer fits; removing the newest sealed events is caught by the chain head, the
one row that records the last hash. Before it is sealed (normally well under a second after its
request) an event is only as safe as any other row. (Someone who can rewrite the whole table
and the head can rebuild a consistent chain: record the head hash that ``audit verify`` prints
somewhere else from time to time to anchor it.)

Chain order is ``chain_seq``. It is id order, except on PostgreSQL where a transaction that
commits after a later id was sealed has its events linked in the next batch: ids are handed out
at insert, not at commit, and an event is never sealed before it is committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp import background
from idp.audit_events import AuditEvent
from idp.db import db

GENESIS = "0" * 64
HEAD_ID = 1
RECORDED = "idp.audit.recorded"
HASHED_FIELDS = ("tag", "at", "actor_id", "subject_id", "client_id", "ip", "user_agent", "details")


class AuditChainHead(db.Model):
    """The newest link of the chain: a single row, locked by the sealer."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_event_id: Mapped[int | None] = mapped_column(Integer)
    last_seq: Mapped[int | None] = mapped_column(Integer)


def canonical(row) -> bytes:
    """The event's fields as canonical JSON (sorted keys, no spaces): the same bytes on every
    backend, from the object being stored or from the row read back."""
    fields = {name: getattr(row, name) for name in HASHED_FIELDS}
    fields["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(prev_hash: str, row) -> str:
    """The hash that chains ``row`` to the event before it."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def note_recorded(session) -> None:
    """Mark ``session``'s transaction as holding new events: sealers are woken at its commit
    (``idp.background.when_committed(RECORDED, ...)``, registered by ``idp.audit``)."""
    background.note(session, RECORDED, True)


# --- the sealer ---------------------------------------------------------------------------

def seal(session: Session, batch_size: int = 500) -> int:
    """Link every committed unsealed event into the chain, oldest id first, one transaction
    per batch; returns how many were sealed."""
    total = 0
    while True:
        sealed = _seal_batch(session, batch_size)
        session.commit()
        total += sealed
        if sealed < batch_size:
            return total


def _seal_batch(session: Session, limit: int) -> int:
    events = AuditEvent.__table__
    head = _locked_head(session)
    rows = session.execute(sa.select(events).where(events.c.chain_seq.is_(None))
                           .order_by(events.c.id).limit(limit)).all()
    if not rows:
        return 0
    previous, seq, links = head.last_hash, head.last_seq or 0, []
    for row in rows:
        seq += 1
        link = link_hash(previous, row)
        links.append({"event_id": row.id, "prev": previous, "link": link, "seq": seq})
        previous = link
    # Core statements: the ORM refuses any change to an event (idp/audit.py); sealing fills
    # the chain columns of an unsealed one, once.
    session.execute(sa.update(events).where(events.c.id == sa.bindparam("event_id"))
                    .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("link"),
                            chain_seq=sa.bindparam("seq")), links)
    head_table = AuditChainHead.__table__
    session.execute(sa.update(head_table).where(head_table.c.id == HEAD_ID).values(
        last_hash=previous, last_event_id=rows[-1].id, last_seq=seq))
    return len(rows)


def _lock_statement():
    # A no-op UPDATE: on PostgreSQL it takes the head's row lock until commit; on SQLite it
    # takes the database write lock before the head is read, so no other sealer slips between.
    return sa.update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(
        last_hash=AuditChainHead.last_hash)


def _locked_head(session):
    if session.execute(_lock_statement()).rowcount == 0:
        _create_head(session)
        session.execute(_lock_statement())
    head = AuditChainHead.__table__
    return session.execute(sa.select(head).where(head.c.id == HEAD_ID)).one()


def _create_head(session) -> None:
    """The head of an empty log, or of a log whose head row was lost (the chain goes on from
    the newest sealed event, so a lost head does not hide anything: verify walks every link)."""
    newest = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash, AuditEvent.chain_seq)
        .where(AuditEvent.chain_seq.is_not(None)).order_by(AuditEvent.chain_seq.desc()).limit(1)
    ).first()
    values = {"id": HEAD_ID, "last_hash": newest.hash if newest else GENESIS,
              "last_event_id": newest.id if newest else None,
              "last_seq": newest.chain_seq if newest else 0}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases are above
        session.execute(sa.insert(AuditChainHead).values(**values))
        return
    # Two first sealers may race to create the head: one inserts, the other does nothing.
    session.execute(insert(AuditChainHead).values(**values).on_conflict_do_nothing(
        index_elements=["id"]))


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    broken_event_id: int | None = None
    problem: str | None = None


def verify_chain(batch_size: int = 500) -> ChainReport:
    """Seal what is waiting, then walk the whole chain in order and report the first event that
    does not fit."""
    seal(db.session, batch_size)
    previous, previous_id, checked = GENESIS, None, 0
    rows = db.session.execute(
        sa.select(AuditEvent.__table__).where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq).execution_options(yield_per=1000)
    )
    for row in rows:
        if row.prev_hash != previous or row.chain_seq != checked + 1:
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
