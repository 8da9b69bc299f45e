"""Whether an account may get tokens at a client: the one place that decides it.

Asked when a code is issued and again on every token grant (code, refresh), userinfo call and
introspection, so a member who loses staff status (or whose account is no longer permanent,
is disabled or has expired) loses access at once, without waiting for tokens to expire.
"""

from __future__ import annotations

import enum
from datetime import datetime

from idp.accounts import membership
from idp.accounts.models import AccountType


class Refusal(enum.StrEnum):
    """Why an account may not get tokens at a client (also the audit/log reason)."""

    ACCOUNT_EXPIRED = "account_expired"
    ACCOUNT_DISABLED = "account_disabled"
    PERMANENT_REQUIRED = "permanent_required"
    STAFF_REQUIRED = "staff_required"

    @property
    def is_about_the_account(self) -> bool:
        """The account itself is unusable (rather than refused by this client's policy)."""
        return self in (Refusal.ACCOUNT_EXPIRED, Refusal.ACCOUNT_DISABLED)


def may_get_tokens(user, client, at: datetime) -> Refusal | None:
    """None when ``user`` may get tokens at ``client`` at ``at``, else why not.

    The account must be usable (not disabled, not expired) and the client's admin-set policy
    (``permanent_only``, ``staff_only``) must admit it; a missing client has no policy.
    """
    if user.disabled_at is not None:
        return Refusal.ACCOUNT_DISABLED
    if not membership.is_usable(user, at):
        return Refusal.ACCOUNT_EXPIRED
    return _client_policy_refusal(user, client)


def _client_policy_refusal(user, client) -> Refusal | None:
    if client is None:
        return None
    if client.permanent_only and user.account_type != AccountType.PERMANENT:
        return Refusal.PERMANENT_REQUIRED
    if client.staff_only and not user.is_staff:
        return Refusal.STAFF_REQUIRED
    return None
