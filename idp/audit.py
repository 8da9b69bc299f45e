"""The audit log: security events with colon-namespaced tags, recorded by services.

Events join the caller's transaction, so an event is stored exactly when what it describes is.
Details must never hold a citizen ID, a password, or a token.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.clock import now
from idp.db import UtcDateTime, db

log = logging.getLogger("idp.audit")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


def record(tag: str, *, actor=None, subject=None, client_id: str | None = None,
           details: dict | None = None) -> AuditEvent:
    """Add an audit event to the current transaction."""
    event = AuditEvent(
        tag=tag,
        at=now(),
        actor_id=getattr(actor, "id", None),
        subject_id=getattr(subject, "id", None),
        client_id=client_id,
        details=details or {},
    )
    if has_request_context():
        event.ip = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:300]
    db.session.add(event)
    log.info("%s actor=%s subject=%s client=%s", tag, event.actor_id, event.subject_id, client_id)
    return event


def events(tag_prefix: str = "") -> list[AuditEvent]:
    """Events whose tag starts with ``tag_prefix``, oldest first."""
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if tag_prefix:
        query = query.where(AuditEvent.tag.startswith(tag_prefix))
    return list(db.session.execute(query).scalars())
