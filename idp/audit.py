"""The audit log: security events with colon-namespaced tags, recorded by services.

Events join the caller's transaction, so an event is stored exactly when what it describes is.
Details must never hold a citizen ID, a password, or a token.

The log is append-only (the ORM refuses to update or delete an event) and tamper-evident: soon
after its transaction commits, a sealer chains each event to the one before it by a hash
(idp/audit_chain.py, idp/audit_sealer.py).
"""

from __future__ import annotations

import json
import logging
import re

from sqlalchemy import event
from sqlalchemy.orm import Session

from idp import audit_chain, audit_sealer, background
from idp.answering import current_request
from idp.audit_events import AuditEvent, AuditLogIsAppendOnly
from idp.clock import now
from idp.db import db
from idp.metrics import audit_recorded

log = logging.getLogger("idp.audit")

__all__ = ["AuditEvent", "AuditLogIsAppendOnly", "events", "record", "scrub"]


# Thirteen digits, possibly grouped (1-2345-67890-12-3): what a citizen ID looks like. Free text
# (an admin's reason, a browser's user agent) could carry one; the log must not.
CITIZEN_ID_LIKE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12}(?!\d)")


def scrub(value):
    """``value`` with anything shaped like a citizen ID masked, in strings at any depth."""
    if isinstance(value, str):
        return CITIZEN_ID_LIKE.sub("[redacted]", value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def record(tag: str, *, actor=None, subject=None, client_id: str | None = None,
           details: dict | None = None) -> None:
    """Add an audit event to the current transaction: stored when it commits (or before the
    transaction's next ORM query, which may read it), sealed into the chain soon after."""
    values = {
        "tag": tag,
        "at": now(),
        "actor_id": getattr(actor, "id", None),
        "subject_id": getattr(subject, "id", None),
        "client_id": client_id,
        # Through JSON once, so the hash covers exactly what the database will give back.
        "details": scrub(json.loads(json.dumps(details or {}, default=str))),
        "ip": None,
        "user_agent": None,
    }
    asked = current_request()
    if asked is not None:
        values["ip"] = asked.remote_addr
        values["user_agent"] = scrub((asked.user_agent.string or "")[:300])
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement ends it, and drops the event
    session.info.setdefault(PENDING, []).append(values)
    audit_chain.note_recorded(session)
    audit_recorded(tag)
    log.info("%s actor=%s subject=%s client=%s", tag, values["actor_id"], values["subject_id"],
             client_id)


# Events wait in the session's ``info`` and go to the table in one Core INSERT: through the
# ORM's unit of work (an entity per event, its flush at commit) they cost more than the rest of
# an authorization's statements together.
PENDING = "idp.audit.pending"
_INSERT = AuditEvent.__table__.insert()


def write_pending(session: Session) -> None:
    """INSERT the events recorded in ``session``'s transaction and not yet written."""
    pending = session.info.pop(PENDING, None)
    if pending:
        session.connection().execute(_INSERT, pending)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_a_query(state) -> None:
    """As the ORM's autoflush did: a query in the same transaction sees its events."""
    write_pending(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_rollback(session: Session, transaction) -> None:
    """A transaction that ended without committing takes its unwritten events with it."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


background.when_committed(audit_chain.RECORDED, audit_sealer.wake_background_sealer)


def events(tag_prefix: str = "") -> list[AuditEvent]:
    """Events whose tag starts with ``tag_prefix``, oldest first."""
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if tag_prefix:
        query = query.where(AuditEvent.tag.startswith(tag_prefix))
    return list(db.session.execute(query).scalars())
