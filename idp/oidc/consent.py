"""Consent: remembered per client and scope set, skipped for trusted clients, revocable."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from idp import audit
from idp.clock import now
from idp.db import db
from idp.oidc import tokens
from idp.oidc.models import Client, Consent


def _find(user, client_id: str) -> Consent | None:
    return db.session.execute(
        db.select(Consent).filter_by(user_id=user.id, client_id=client_id)
    ).scalar_one_or_none()


def covers(user, client: Client, scope: str) -> bool:
    """True when the client is trusted or the person already agreed to every scope asked."""
    if client.trusted:
        return True
    consent = _find(user, client.client_id)
    return consent is not None and set(scope.split()) <= set(consent.scopes)


def grant(user, client: Client, scope: str) -> None:
    """Record that the person allows the client ``scope`` (extends an earlier consent)."""
    consent = _find(user, client.client_id)
    if consent is None:
        consent = Consent(user_id=user.id, client_id=client.client_id, scopes=[])
        db.session.add(consent)
    consent.scopes = sorted(set(consent.scopes) | set(scope.split()))
    consent.granted_at = now()
    audit.record("oidc:consent:granted", actor=user, subject=user, client_id=client.client_id,
                 details={"scopes": consent.scopes})


def grant_and_commit(user, client: Client, scope: str) -> None:
    """``grant``, committed. When a parallel request stored this person's first consent for
    the client a moment earlier (one row per person and client), extend that row instead."""
    for last_try in (False, True):
        grant(user, client, scope)
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
            if last_try:
                raise


def revoke(user, client_id: str) -> bool:
    """Withdraw consent and revoke the tokens the client holds for this person."""
    consent = _find(user, client_id)
    if consent is None:
        return False
    db.session.delete(consent)
    tokens.revoke_user_client_tokens(user, [client_id], "consent_revoked")
    audit.record("oidc:consent:revoked", actor=user, subject=user, client_id=client_id)
    return True


def linked_clients(user) -> list[tuple[Consent, Client | None]]:
    """The person's consents, each with its client (None if the client is gone)."""
    consents = db.session.execute(db.select(Consent).filter_by(user_id=user.id)).scalars()
    clients = {c.client_id: c for c in db.session.execute(db.select(Client)).scalars()}
    return [(c, clients.get(c.client_id)) for c in consents]
