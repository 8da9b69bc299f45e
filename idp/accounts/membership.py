"""Membership rules: temporary accounts expire; nothing outlives the account."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app

from idp.accounts.models import User


def temporary_expiry(signed_up_at: datetime, days: int) -> datetime:
    return signed_up_at + timedelta(days=days)


def is_expired(user: User, at: datetime) -> bool:
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


def make_permanent(user: User, at: datetime) -> None:
    """Permanent membership without expiry (a passed identity check); first choice kept."""
    user.account_type, user.expires_at = "permanent", None
    user.membership_chosen_at = user.membership_chosen_at or at


def back_to_temporary(user: User, at: datetime) -> None:
    """Temporary again, with a fresh ``[MEMBERSHIP] TEMPORARY_DAYS`` expiry from ``at``."""
    days = current_app.config["MEMBERSHIP"]["TEMPORARY_DAYS"]
    user.account_type, user.expires_at = "temporary", temporary_expiry(at, days)
