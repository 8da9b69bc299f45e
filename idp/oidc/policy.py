"""Client policies set by admins: ``staff_only`` and ``permanent_only``.

Checked when a code is issued and again on every refresh, userinfo call and introspection, so
a member who loses staff status (or whose account is no longer permanent) loses access to a
staff-only client at once, without waiting for tokens to expire.
"""

from __future__ import annotations


def policy_problem(user, client) -> str | None:
    """``staff_required`` / ``permanent_required`` when the client's policy excludes the
    account, else None."""
    if client is None:
        return None
    if client.permanent_only and user.account_type != "permanent":
        return "permanent_required"
    if client.staff_only and not user.is_staff:
        return "staff_required"
    return None
