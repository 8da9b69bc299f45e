"""RP-Initiated Logout 1.0 (the end_session endpoint) and Back-Channel Logout 1.0."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g

from idp import audit, outbound
from idp.accounts.models import LoginSession
from idp.clock import now, timestamp
from idp.db import db
from idp.oidc import tokens
from idp.oidc.clients import active_client
from idp.oidc.models import AuthorizationCode, Client
from idp.oidc.signing import key_store

log = logging.getLogger(__name__)
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
HTTP_SESSION = "idp.http"


class LogoutRequestError(Exception):
    """The logout request cannot be honoured as asked; shown on a page, never redirected."""


@dataclass(frozen=True)
class LogoutRequest:
    client: Client | None
    hint_claims: dict | None
    post_logout_redirect_uri: str | None
    state: str | None

    def proven_for(self, session) -> bool:
        """An id_token_hint issued in this very session proves the RP sent the request
        (RP-Initiated Logout 1.0, section 6: otherwise ask the person to confirm)."""
        claims = self.hint_claims
        return bool(
            session is not None and claims and claims.get("sub") == session.user.sub
            and claims.get("sid") in (None, session.sid)
        )


def parse_logout_request(params) -> LogoutRequest:
    """Validate id_token_hint, client_id and post_logout_redirect_uri (exact match)."""
    claims = None
    if params.get("id_token_hint"):
        try:
            claims = key_store().verify(params["id_token_hint"], now())
        except ValueError:
            raise LogoutRequestError("id_token_hint is not a valid ID token of this issuer") from None
        if claims.get("iss") != current_app.config["ISSUER"]:
            raise LogoutRequestError("id_token_hint was not issued by this issuer")
    client_id = params.get("client_id") or (claims or {}).get("aud")
    if isinstance(client_id, list):
        client_id = client_id[0] if len(client_id) == 1 else None
    if claims and params.get("client_id") and params["client_id"] != claims.get("aud"):
        raise LogoutRequestError("client_id does not match the id_token_hint")
    client = active_client(client_id)
    redirect_uri = params.get("post_logout_redirect_uri") or None
    if redirect_uri and (client is None or redirect_uri not in client.post_logout_redirect_uris):
        raise LogoutRequestError("post_logout_redirect_uri is not registered for this client")
    return LogoutRequest(client, claims, redirect_uri, params.get("state") or None)


def logout_token(client: Client, sub: str, sid: str) -> str:
    """Back-Channel Logout 1.0, section 2.4: a signed JWT with ``events``, no ``nonce``."""
    moment = now()
    claims = {
        "iss": current_app.config["ISSUER"], "aud": client.client_id, "iat": timestamp(moment),
        "exp": timestamp(moment + timedelta(minutes=2)), "jti": secrets.token_urlsafe(16),
        "sub": sub, "sid": sid, "events": {BACKCHANNEL_EVENT: {}},
    }
    alg = client.id_token_signed_response_alg or current_app.config["OIDC"]["DEFAULT_SIGNING_ALG"]
    return key_store().sign(claims, alg, moment, typ="logout+jwt")


def clients_in_session(sid: str) -> list[Client]:
    """The enabled clients that got a code under session ``sid`` (back-channel logout goes to them)."""
    client_ids = db.session.execute(
        db.select(AuthorizationCode.client_id).where(AuthorizationCode.sid == sid).distinct()
    ).scalars()
    return [c for c in (active_client(i) for i in client_ids) if c is not None]


def notify_backchannel(session) -> None:
    """Session-ended hook: revoke the session's tokens, and queue a logout token for each RP
    that took part; they are sent once the transaction that ended the session has committed,
    so an RP that calls back (e.g. introspection) already sees the session ended."""
    tokens.revoke_session_tokens(session.sid)
    for client in clients_in_session(session.sid):
        queue_logout(client, session.user.sub, session.sid)


def queue_logout(client: Client, sub: str, sid: str) -> None:
    """Queue a logout token for ``client`` if it registered a back-channel URI."""
    if client.backchannel_logout_uri:
        g.setdefault("idp_backchannel_pending", []).append(
            (client.client_id, logout_token(client, sub, sid)))


def deliver_pending(error=None) -> None:
    """teardown_appcontext: send the queued logout tokens, unless the work failed."""
    pending = g.pop("idp_backchannel_pending", [])
    if error is not None or not pending:
        return
    db.session.rollback()  # anything uncommitted was not meant to happen
    timeout = current_app.config["OIDC"]["BACKCHANNEL_TIMEOUT_SECONDS"]
    http = outbound.OutboundClient("back-channel logout", current_app.extensions.get(HTTP_SESSION),
                                   timeout=(timeout, timeout))
    for client_id, token in pending:
        client = active_client(client_id)
        if client is not None and client.backchannel_logout_uri:
            deliver(http, client, token)
    db.session.commit()


def deliver(http: outbound.OutboundClient, client: Client, token: str) -> bool:
    """POST the logout token; a failure is audited, never raised: logout goes on regardless."""
    try:
        status = http.send("POST", client.backchannel_logout_uri, data={"logout_token": token})
        delivered = status in (200, 204)
    except outbound.ServiceUnavailable as error:
        log.warning("back-channel logout to %s failed: %s", client.client_id, error)
        delivered = False
    audit.record("oidc:backchannel:" + ("delivered" if delivered else "failed"),
                 client_id=client.client_id)
    return delivered


def end_staff_only_access(user) -> None:
    """Staff-lost hook: revoke what staff-only clients hold for ``user`` and send their
    sessions a back-channel logout; other clients are not affected."""
    staff_only = {c.client_id: c for c in db.session.execute(
        db.select(Client).where(Client.staff_only.is_(True))).scalars()}
    if not staff_only:
        return
    tokens.revoke_user_client_tokens(user, list(staff_only), "staff_status_lost")
    live = db.session.execute(db.select(LoginSession).filter_by(user_id=user.id, ended_at=None)).scalars()
    for session in live:
        for client in clients_in_session(session.sid):
            if client.client_id in staff_only:
                queue_logout(client, user.sub, session.sid)


def end_identity_access(user) -> None:
    """Identity-unlinked hook: every token the account holds is revoked (its sessions were
    ended, with their back-channel logouts, before)."""
    tokens.revoke_user_tokens(user, "identity_unlinked")
