"""A read-only copy of the account columns that claims and the token policy read.

Endpoints that only read an account (userinfo) select these columns with Core, in the statement
that finds the token, instead of loading a ``User`` entity (34 columns, identity map, session):
a third of the work of a userinfo call. The copy answers to the same attribute names as
``User``, so ``claims`` and ``policy`` take either.
"""

from __future__ import annotations

from idp.accounts.models import User

SNAPSHOT_COLUMNS = (
    "id", "sub", "email", "email_verified", "given_name_th", "family_name_th", "given_name_en",
    "family_name_en", "gender", "birthdate", "locale", "department", "position",
    "account_type", "expires_at", "disabled_at", "identity_verified", "staff_status",
    "staff_verified_by",
)
COLUMNS = tuple(getattr(User, name) for name in SNAPSHOT_COLUMNS)
PREFIX = "account_"  # the labels of the columns beside another table's (prefixed_columns)


def prefixed_columns() -> tuple:
    """The snapshot's columns labelled ``account_<name>``, to select beside a table whose own
    columns have the same names (``id``, ``expires_at``)."""
    return tuple(column.label(PREFIX + column.key) for column in COLUMNS)


class AccountSnapshot:
    """The account as read, with ``User``'s derived properties; never written back."""

    __slots__ = SNAPSHOT_COLUMNS
    is_staff = User.is_staff

    def __init__(self, row, prefix: str = ""):
        for name in SNAPSHOT_COLUMNS:
            setattr(self, name, getattr(row, prefix + name))

    @classmethod
    def beside(cls, row) -> AccountSnapshot | None:
        """The snapshot from a row selected with ``prefixed_columns``; None when the row has no
        account (an outer join that found none)."""
        return None if getattr(row, PREFIX + "id") is None else cls(row, PREFIX)

    def __repr__(self) -> str:
        return f"<AccountSnapshot {self.sub}>"


class RowWithAccount:
    """A row read with Core, with its account's snapshot (selected beside it with
    ``prefixed_columns``) in ``user``: None if it has none. Read-only: the row's columns are
    its attributes."""

    __slots__ = ("_row", "user")

    def __init__(self, row):
        self._row, self.user = row, AccountSnapshot.beside(row)

    def __getattr__(self, name):
        return getattr(self._row, name)
