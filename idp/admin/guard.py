"""Who may use which admin screen: roles checked on the server for every request, the second
factor for every role, a shorter idle time for admin work, and a fresh second factor for
sensitive actions (step-up)."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.accounts.models import LoginSession, User
from idp.accounts.sessions import current_session
from idp.admin import mfa
from idp.clock import now
from idp.db import db

ADMIN, CLIENT_MANAGER, REVIEWER = "admin", "client_manager", "reviewer"
ROLES = (ADMIN, CLIENT_MANAGER, REVIEWER)
ROLE_LABELS = {
    ADMIN: _l("Administrator (everything)"),
    CLIENT_MANAGER: _l("Client manager (OAuth clients only)"),
    REVIEWER: _l("Reviewer (the staff-document review queue only)"),
}


def roles_of(user: User | None) -> set[str]:
    """The console roles ``user`` holds."""
    return set(user.roles or []) & set(ROLES) if user else set()


def may(user: User | None, *roles: str) -> bool:
    """``admin`` may do everything; the other roles only what names them."""
    held = roles_of(user)
    return ADMIN in held or bool(held & set(roles))


def _settings() -> dict:
    return current_app.config["ADMIN"]


def second_factor_live(session: LoginSession) -> bool:
    """Passed the second factor in this SSO session, and used the console since, recently."""
    if session.mfa_at is None or session.admin_seen_at is None:
        return False
    return now() - session.admin_seen_at < timedelta(seconds=_settings()["IDLE_SECONDS"])


def second_factor_fresh(session: LoginSession) -> bool:
    """The person passed the second factor recently enough for the console."""
    return (session.mfa_at is not None
            and now() - session.mfa_at < timedelta(seconds=_settings()["STEP_UP_SECONDS"]))


def safe_next(target: str | None) -> str:
    """A console path to come back to; anything else (another site, a scheme) goes home."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//"):
        return url_for("admin.home")
    return target


def _here() -> str:
    """Where to come back to after the second factor: this page, or for a POST-only action
    the page the form was on."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    return url_for("admin.home")


def _second_factor_gate(session: LoginSession, step_up: bool):
    """A redirect to the MFA pages when the session needs them, else None."""
    if not mfa.is_enrolled(session.user):
        return redirect(url_for("admin.mfa_enrol"))
    if not second_factor_live(session):
        if session.mfa_at is not None:
            session.mfa_at = None
            db.session.commit()
            flash(_("Your admin session was idle for too long. Please confirm it is you."))
        return redirect(url_for("admin.mfa_verify", next=_here()))
    if step_up and not second_factor_fresh(session):
        flash(_("This action needs a fresh code from your authenticator app."))
        return redirect(url_for("admin.mfa_verify", next=_here()))
    session.admin_seen_at = now()
    db.session.commit()
    return None


def role(*roles: str, second_factor: bool = True, step_up: bool = False):
    """Guard a console view: signed in, holding one of ``roles`` (or admin), with the second
    factor (unless ``second_factor`` is False: the MFA pages themselves), fresh for ``step_up``.

    A member without the role gets 403 whatever URL or form they send; the check runs before
    the view reads anything from the request.
    """
    def decorator(view):
        """Wrap ``view`` with the role and second-factor checks."""
        @wraps(view)
        def guarded(*args, **kwargs):
            """Run the view only for a person who holds the role, with a fresh second factor."""
            session = current_session()
            if session is None:
                return redirect(url_for("accounts.login", next=request.path))
            if not may(session.user, *roles):
                abort(403)
            if second_factor:
                gate = _second_factor_gate(session, step_up)
                if gate is not None:
                    return gate
            g.admin_session, g.admin_user = session, session.user
            return view(*args, **kwargs)
        guarded.admin_roles = frozenset(roles) | {ADMIN}
        return guarded
    return decorator


def any_role(**options):
    """Decorator: any console role lets the person in."""
    return role(*ROLES, **options)
