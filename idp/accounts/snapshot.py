"""A read-only copy of the account columns that claims and the token policy read.

Endpoints that only read an account (userinfo) select these columns with Core, in the statement
that finds the token, instead of loading a ``User`` entity (34 columns, identity map, session):
a third of the work of a userinfo call. The copy answers to the same attribute names as
``User``, so ``claims`` and ``policy`` take either.
"""

from __future__ import annotations

from operator import attrgetter

from sqlalchemy import bindparam, select

from idp.accounts.models import User

SNAPSHOT_COLUMNS = (
    "id", "sub", "email", "email_verified", "given_name_th", "family_name_th", "given_name_en",
    "family_name_en", "gender", "birthdate", "locale", "department", "position",
    "account_type", "expires_at", "disabled_at", "identity_verified", "staff_status",
    "staff_verified_by",
)
PREFIX = "account_"  # the labels of the columns beside another table's, whose own names they share
ACCOUNT_COLUMNS = tuple(getattr(User, name).label(PREFIX + name) for name in SNAPSHOT_COLUMNS)
_READ_ACCOUNT = attrgetter(*(PREFIX + name for name in SNAPSHOT_COLUMNS))  # a tuple, in C


def with_account(table, key_column, columns=()):
    """The row of ``table`` whose ``key_column`` equals the ``digest`` parameter (only
    ``columns`` of it, if given), with its account's snapshot columns beside it, in one
    statement (built once by the caller)."""
    accounts = User.__table__
    return (select(*(columns or (table,)), *ACCOUNT_COLUMNS)
            .outerjoin(accounts, accounts.c.id == table.c.user_id)
            .where(key_column == bindparam("digest")))


class AccountSnapshot:
    """The account as read, with ``User``'s derived properties; never written back."""

    __slots__ = SNAPSHOT_COLUMNS
    is_staff = User.is_staff

    def __init__(self, row):
        for name, value in zip(SNAPSHOT_COLUMNS, _READ_ACCOUNT(row), strict=True):
            setattr(self, name, value)

    @classmethod
    def beside(cls, row) -> AccountSnapshot | None:
        """The snapshot from a row selected with ``ACCOUNT_COLUMNS``; None when the row has no
        account (an outer join that found none)."""
        return None if getattr(row, PREFIX + "id") is None else cls(row)

    def __repr__(self) -> str:
        return f"<AccountSnapshot {self.sub}>"


class RowWithAccount:
    """A row read with Core (``with_account``), with its account's snapshot in ``user``: None
    if it has none. Read-only: the row's columns are its attributes. What userinfo, code
    redemption, refresh and the authorization's SSO session read, instead of two entities."""

    __slots__ = ("_row", "user")

    def __init__(self, row):
        self._row, self.user = row, AccountSnapshot.beside(row)

    def __getattr__(self, name):
        return getattr(self._row, name)
