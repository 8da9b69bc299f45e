"""Membership: temporary accounts expire, permanent ones do not; nothing outlives the account.

This module is the only writer of ``User.account_type``, ``User.expires_at`` and
``User.membership_chosen_at``: every transition below is a named, audited function
(``tests/unit/test_state_owners.py`` holds every other module to that).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app

from idp import audit
from idp.accounts.models import AccountType, User
from idp.clock import now
from idp.i18n import BANGKOK, N_

LONGEST_EXTENSION = timedelta(days=366)


class LastDayRefused(Exception):
    """A new last day cannot be set; ``msgid`` says why (English, in the catalog)."""

    def __init__(self, msgid: str):
        super().__init__(msgid)
        self.msgid = msgid


def temporary_expiry(signed_up_at: datetime, days: int) -> datetime:
    """When a temporary membership that starts at ``signed_up_at`` runs out."""
    return signed_up_at + timedelta(days=days)


def _temporary_days() -> int:
    return current_app.config["MEMBERSHIP"]["TEMPORARY_DAYS"]


def start_temporary(user: User, at: datetime) -> None:
    """A new account's membership: temporary, running out after the configured days."""
    user.account_type = AccountType.TEMPORARY
    user.expires_at = temporary_expiry(at, _temporary_days())
    audit.record("account:membership:temporary_started", subject=user,
                 details={"expires_at": user.expires_at.isoformat()})


def make_permanent(user: User, at: datetime) -> None:
    """Permanent membership (identity checked or created so): no expiry, the choice is made."""
    user.account_type, user.expires_at = AccountType.PERMANENT, None
    user.membership_chosen_at = user.membership_chosen_at or at
    audit.record("account:membership:permanent", subject=user)


def choose_temporary(user: User, at: datetime) -> None:
    """The member keeps the temporary membership (it already runs from signup); once."""
    if user.membership_chosen_at is None:
        user.membership_chosen_at = at
        audit.record("account:membership:temporary", actor=user, subject=user)


def back_to_temporary(user: User, at: datetime) -> None:
    """The identity behind a permanent membership is gone: temporary again, from ``at``."""
    user.account_type = AccountType.TEMPORARY
    user.expires_at = temporary_expiry(at, _temporary_days())
    audit.record("account:membership:back_to_temporary", subject=user,
                 details={"expires_at": user.expires_at.isoformat()})


def expiry_for(last_day: date) -> datetime:
    """The account works through ``last_day`` (Thai time) and stops at the next midnight."""
    return datetime.combine(last_day + timedelta(days=1), time(0), BANGKOK).astimezone(UTC)


def _check_last_day(user: User, new_expiry: datetime, at: datetime) -> None:
    if user.account_type != AccountType.TEMPORARY:
        raise LastDayRefused(N_("Only a temporary account has an expiry to extend."))
    if new_expiry <= at:
        raise LastDayRefused(N_("The new last day must be in the future."))
    # At most about a year ahead: a Buddhist-era year typed as a Common-Era one would
    # otherwise give five centuries.
    if new_expiry > at + LONGEST_EXTENSION:
        raise LastDayRefused(N_("The new last day must be within a year from today."))


def set_last_day(user: User, day: date, *, actor: User, reason: str) -> None:
    """Give a temporary account a new last day (Bangkok time); raises LastDayRefused."""
    new_expiry = expiry_for(day)
    _check_last_day(user, new_expiry, now())
    previous = user.expires_at
    user.expires_at = new_expiry
    audit.record("admin:account:extended", actor=actor, subject=user, details={
        "reason": reason, "from": previous.isoformat() if previous else None,
        "to": new_expiry.isoformat()})


def is_expired(user: User, at: datetime) -> bool:
    """The account's membership has run out at ``at``."""
    return user.expires_at is not None and user.expires_at <= at


def is_usable(user: User, at: datetime) -> bool:
    """The account may receive tokens: not disabled and not expired."""
    return user.disabled_at is None and not is_expired(user, at)


def cap_to_account(user: User, moment: datetime) -> datetime:
    """The earlier of ``moment`` and the account's expiry: no token outlives its account."""
    if user.expires_at is None:
        return moment
    return min(moment, user.expires_at)


def days_left(user: User, at: datetime) -> int | None:
    """Whole days until expiry, counting a started day as a day (a new 60-day account has 60)."""
    if user.expires_at is None:
        return None
    return max(0, math.ceil((user.expires_at - at) / timedelta(days=1)))
