"""Server-side SSO sessions: the cookie names a session record; ending the record ends it.

The cookie holds a random token; the database holds only its SHA-256, so a database read does
not hand out live sessions. ``sid`` is a separate public id for ID and logout tokens.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, redirect, request, url_for
from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value

from idp import audit
from idp.accounts.models import LoginSession, User
from idp.accounts.snapshot import RowWithAccount, with_account
from idp.answering import current_request
from idp.clock import now
from idp.config import is_loopback_url
from idp.db import db

_ENDED_HOOKS = "idp.session_ended_hooks"
_UNTOUCHED = "idp.session_untouched_endpoints"
# How stale the stored time of last use may get: the idle timeout is exact to this much.
TOUCH_INTERVAL = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _settings() -> dict:
    return current_app.config["SESSION"]


def start_session(user: User, amr: list[str]) -> LoginSession:
    """Open a new SSO session for ``user`` and queue its cookie on the response."""
    end_current_session(reason="replaced")
    token, moment = secrets.token_urlsafe(32), now()
    session = LoginSession(
        token_hash=_hash(token),
        sid=secrets.token_urlsafe(24),
        user=user,
        auth_time=moment,
        amr=amr,
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + timedelta(seconds=_settings()["LIFETIME_SECONDS"]),
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300],
    )
    db.session.add(session)
    db.session.flush()
    g.idp_session, g.idp_session_cookie = session, token
    audit.record("account:session:started", actor=user, subject=user, details={"sid": session.sid})
    return session


def is_live(session: LoginSession, at: datetime) -> bool:
    """The session may still be used at ``at``: not ended, not expired, not idle too long."""
    idle = timedelta(seconds=_settings()["IDLE_SECONDS"])
    return (
        session.ended_at is None
        and session.expires_at > at
        and session.last_seen_at + idle > at
        and session.user.disabled_at is None
    )


SESSIONS = LoginSession.__table__
# The session with its account's snapshot, by the cookie's digest (built once).
SESSION_VIEW = with_account(SESSIONS, SESSIONS.c.token_hash)
# The session entity and its account entity, by id: for what changes a session.
SESSION_WITH_ACCOUNT = (db.select(LoginSession, User).join(User, User.id == LoginSession.user_id)
                        .where(LoginSession.id == bindparam("session_id")))
TOUCH = (update(SESSIONS)
         .where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.last_seen_at < bindparam("moment"))
         .values(last_seen_at=bindparam("moment")))


def session_view():
    """The live SSO session named by this request's cookie, for reading (the authorization, the
    idle-time touch): the entity if this request already has it (signed in, loaded or ended
    here), else its row and account snapshot, read with Core; None without a live one."""
    if "idp_session" in g:
        return g.idp_session
    if "idp_session_view" not in g:
        g.idp_session_view = _read_view()
    return g.idp_session_view


def _read_view() -> RowWithAccount | None:
    token = current_request().cookies.get(_settings()["COOKIE_NAME"])
    if not token:
        return None
    found = db.session.connection().execute(SESSION_VIEW, {"digest": _hash(token)}).one_or_none()
    view = RowWithAccount(found) if found is not None else None
    if view is None or view.user is None or not is_live(view, now()):
        g.idp_session_cookie = ""  # clear a cookie that names nothing live
        return None
    return view


def current_session() -> LoginSession | None:
    """The live SSO session as the entity, with its account: for what ends or changes a
    session, or needs the whole account (pages, the admin console). Found through
    ``session_view``, so the cookie is read and checked in one place."""
    if "idp_session" in g:
        return g.idp_session
    view, session = session_view(), None
    if view is not None:
        found = db.session.execute(SESSION_WITH_ACCOUNT, {"session_id": view.id}).one()
        set_committed_value(found[0], "user", found[1])  # the account, read with it
        session = found[0] if is_live(found[0], now()) else None
    g.idp_session = session
    return session


def touch_current_session() -> None:
    """before_request: note that the live SSO session is in use, so that the idle timeout counts
    from the last request, reads included. Written at most once a minute (reads stay cheap), at
    the start of the request in a transaction of its own (nothing else is pending yet)."""
    if request.endpoint == "static" or request.endpoint in current_app.extensions.get(_UNTOUCHED, ()):
        return
    session, moment = session_view(), now()
    if not touch_due(session, moment):
        return
    db.session.connection().execute(TOUCH, {"session_id": session.id, "moment": moment})
    db.session.commit()


def touch_due(session, moment: datetime) -> bool:
    """The live ``session``'s idle time is to be written now (at most once a minute)."""
    return session is not None and moment - session.last_seen_at >= TOUCH_INTERVAL


def not_activity(app, endpoints) -> None:
    """Requests to ``endpoints`` (called by relying parties' servers, not by the person's
    browser) neither read nor refresh the SSO session's idle time."""
    app.extensions.setdefault(_UNTOUCHED, set()).update(endpoints)


def current_user() -> User | None:
    """The account of the browser's live session, or None."""
    session = current_session()
    return session.user if session else None


def sign_in_required(view):
    """Decorate a page of the signed-in person: the view gets their account as its first
    argument; a browser without a live session goes to the sign-in page."""
    @functools.wraps(view)
    def signed_in_view(*args, **kwargs):
        user = current_user()
        if user is None:
            return redirect(url_for("accounts.login"))
        return view(user, *args, **kwargs)
    return signed_in_view


def on_session_ended(hook) -> None:
    """Register ``hook(session)`` to run after a session ends (back-channel logout)."""
    current_app.extensions.setdefault(_ENDED_HOOKS, []).append(hook)


def end_session(session: LoginSession, *, reason: str) -> None:
    """End ``session`` now and run the session-ended hooks."""
    if session.ended_at is not None:
        return
    session.ended_at = now()
    audit.record(
        "account:session:ended",
        actor=session.user,
        subject=session.user,
        details={"sid": session.sid, "reason": reason},
    )
    for hook in current_app.extensions.get(_ENDED_HOOKS, []):
        hook(session)


def end_current_session(*, reason: str) -> LoginSession | None:
    """End the browser's session (if any) and forget its cookie; returns it."""
    session = current_session()
    if session is not None:
        end_session(session, reason=reason)
        g.idp_session, g.idp_session_cookie = None, ""
    return session


def end_all_sessions(user: User, *, reason: str, keep: LoginSession | None = None) -> int:
    """End every live session of ``user`` but ``keep`` (disable, password change); returns how
    many ended."""
    live = db.session.execute(
        db.select(LoginSession).filter_by(user_id=user.id, ended_at=None)
    ).scalars().all()
    ending = [s for s in live if keep is None or s.id != keep.id]
    for session in ending:
        end_session(session, reason=reason)
    return len(ending)


def write_cookie(response):
    """after_request: set or clear the SSO cookie queued during the request."""
    token = g.get("idp_session_cookie")
    if token is None:
        return response
    settings = _settings()
    secure = not is_loopback_url(current_app.config["ISSUER"])
    if token:
        response.set_cookie(
            settings["COOKIE_NAME"], token, max_age=settings["LIFETIME_SECONDS"],
            httponly=True, secure=secure, samesite="Lax", path="/",
        )
    else:
        response.delete_cookie(
            settings["COOKIE_NAME"], httponly=True, secure=secure, samesite="Lax", path="/"
        )
    return response
