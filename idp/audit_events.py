"""The audit event row: append-only (the ORM refuses to update or delete one).

Recorded through ``idp.audit.record``; chained by ``idp.audit_chain``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import UtcDateTime, db


class AuditEvent(db.Model):
    """One security event: a colon-namespaced tag, who did it to whom, sealed into the chain."""

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
    # Empty until the sealer links the event into the chain (idp/audit_chain.py).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)


class AuditLogIsAppendOnly(RuntimeError):
    """An audit event cannot be changed or removed once recorded."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, target):
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed or removed")
