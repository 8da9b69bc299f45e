"""The account snapshot userinfo reads (idp/accounts/snapshot.py) says what the ``User`` entity
says: the same claims for every scope and the same token policy, for accounts that differ in
every column the claims contract reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.accounts.snapshot import ACCOUNT_COLUMNS, AccountSnapshot
from idp.clock import now
from idp.db import db
from idp.oidc.claims import user_claims
from idp.oidc.policy import may_get_tokens

EVERY_SCOPE = "openid profile email moc"


class Policy:
    """A client's policy as ``may_get_tokens`` reads it."""

    def __init__(self, permanent_only=False, staff_only=False):
        self.permanent_only, self.staff_only = permanent_only, staff_only


ACCOUNTS = {
    "plain": {},
    "staff, permanent, English names": dict(
        staff_status="verified", staff_verified_by="ad", account_type="permanent",
        identity_verified=True, given_name_en="Somchai", family_name_en="Jaidee",
        gender="male", birthdate=date(1980, 2, 29), locale="th", department="กรมการค้าภายใน",
        position="นักวิชาการพาณิชย์", email_verified=True),
    "pending staff, disabled": dict(staff_status="pending", disabled=True),
    "temporary, expired": dict(expired=True),
}


def _snapshot_of(sub: str) -> AccountSnapshot:
    """The account's snapshot as a statement built with ``with_account`` reads it."""
    return AccountSnapshot.beside(db.session.execute(select(*ACCOUNT_COLUMNS).where(User.sub == sub)).one())


def _stored(app, make_user, fields: dict) -> str:
    fields = dict(fields)
    disabled, expired = fields.pop("disabled", False), fields.pop("expired", False)
    sub = make_user(**{k: v for k, v in fields.items() if k in ("given_name_th", "family_name_th")})
    with app.app_context():
        user = db.session.execute(select(User).where(User.sub == sub)).scalar_one()
        for name, value in fields.items():
            setattr(user, name, value)
        user.disabled_at = now() if disabled else None
        if expired:
            user.expires_at = now() - timedelta(days=1)
        db.session.commit()
    return sub


@pytest.mark.parametrize("kind", ACCOUNTS)
def test_the_snapshot_gives_the_claims_and_the_policy_the_entity_gives(app, make_user, kind):
    sub = _stored(app, make_user, ACCOUNTS[kind])
    with app.app_context():
        user = db.session.execute(select(User).where(User.sub == sub)).scalar_one()
        snapshot = _snapshot_of(sub)
        for scope in ("openid", "openid profile", "openid email", "openid moc", EVERY_SCOPE):
            assert user_claims(snapshot, scope) == user_claims(user, scope)
        for policy in (None, Policy(), Policy(permanent_only=True), Policy(staff_only=True)):
            assert may_get_tokens(snapshot, policy, now()) == may_get_tokens(user, policy, now())
        assert snapshot.is_staff == user.is_staff


def test_the_snapshot_cannot_be_written(app, make_user):
    sub = make_user()
    with app.app_context():
        snapshot = _snapshot_of(sub)
        with pytest.raises(AttributeError):
            snapshot.password_hash = "changed"
