"""Password sign-in: one argon2 verification for every attempt, and throttles that stop a
guesser without letting anyone lock the owner out.

Failures are counted three ways (limits in ``RATE_LIMITS``, see idp/ratelimit.py):

- ``LOGIN_PER_IP``: from one address, across accounts;
- ``LOGIN_PER_ACCOUNT_IP``: for one account from one address, the online guesser's budget;
  once spent, that address waits out the window even with the right password;
- ``LOGIN_PER_ACCOUNT``: for one account from anywhere (a guesser with many addresses). Once
  spent, an address that has not failed for this account in its own window still has its
  password checked: the owner signing in from a new place gets in, each further address of
  the guesser gets one guess. A wrong password answers exactly as it always does.

Every count of an account is keyed by its email, a digest of its password hash and the time of
its last admin unlock, so a password reset or an unlock starts all of them afresh (including
the per-address ones, which cannot be listed). An email without an account is counted by the
email alone and throttled the same way, so the answers never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from idp import audit
from idp.accounts.models import User
from idp.accounts.passwords import hash_password, needs_rehash, verify_password
from idp.accounts.service import email_key, find_by_email
from idp.clock import now
from idp.ratelimit import LOGIN_PER_ACCOUNT, LOGIN_PER_ACCOUNT_IP, LOGIN_PER_IP


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    reason: str | None = None  # "bad_credentials" | "disabled" | "throttled"; never told apart
    # to the person except "disabled", which is shown only after the right password

    @property
    def ok(self) -> bool:
        """The sign-in succeeded."""
        return self.user is not None and self.reason is None


@dataclass(frozen=True)
class _Keys:
    account: str
    account_ip: str
    ip: str


def _keys(email: str, user: User | None, ip: str) -> _Keys:
    account = email_key(email)
    if user is not None:
        password = hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
        unlocked = user.sign_in_unlocked_at.isoformat() if user.sign_in_unlocked_at else ""
        account = f"{account}|{user.sub}|{password}|{unlocked}"
    return _Keys(account, f"{account}|{ip}", ip)


def _spent_limit(keys: _Keys) -> str | None:
    """The name of the limit that stops this attempt, or None."""
    if LOGIN_PER_IP.exhausted(keys.ip):
        return LOGIN_PER_IP.name
    if LOGIN_PER_ACCOUNT_IP.exhausted(keys.account_ip):
        return LOGIN_PER_ACCOUNT_IP.name
    if LOGIN_PER_ACCOUNT.exhausted(keys.account) and LOGIN_PER_ACCOUNT_IP.used(keys.account_ip):
        return LOGIN_PER_ACCOUNT.name
    return None


def sign_in_with_password(email: str, password: str, ip: str) -> SignInResult:
    """Check a sign-in from ``ip`` against the throttles and the password; audits the outcome."""
    user = find_by_email(email)
    keys = _keys(email, user, ip)
    limit = _spent_limit(keys)
    if limit is not None:
        audit.record("account:login:throttled", subject=user, details={"ip": ip, "limit": limit})
        return SignInResult(None, "throttled")
    result = check_password_sign_in(user, password)
    if result.ok:
        LOGIN_PER_ACCOUNT_IP.reset(keys.account_ip)
    else:
        _spend(keys)
    return result


def _spend(keys: _Keys) -> None:
    LOGIN_PER_ACCOUNT_IP.spend(keys.account_ip)
    LOGIN_PER_ACCOUNT.spend(keys.account)
    LOGIN_PER_IP.spend(keys.ip)


def password_guess_matches(user: User, password: str, ip: str) -> bool:
    """True when ``password`` is ``user``'s, checked under the sign-in throttles: a password
    typed anywhere but the sign-in form (a repeated signup) is a guess like any other. One
    argon2 verification whatever the outcome; a wrong guess counts as a failed sign-in."""
    keys = _keys(user.email, user, ip)
    if _spent_limit(keys) is not None:
        verify_password(None, password)  # the same cost as a check, and no answer
        audit.record("account:login:throttled", subject=user, details={"ip": ip, "via": "signup"})
        return False
    if verify_password(user.password_hash, password):
        return True
    _spend(keys)
    return False


def check_password_sign_in(user: User | None, password: str) -> SignInResult:
    """Check ``password`` for ``user`` (None: no such account) with exactly one argon2
    verification whatever the case, so the time taken does not tell whether the account
    exists, is disabled or has a password."""
    matched = verify_password(user.password_hash if user else None, password)
    if not matched:
        audit.record("account:login:failure", subject=user, details={"reason": "bad_credentials"})
        return SignInResult(None, "bad_credentials")
    if user.disabled_at is not None:
        audit.record("account:login:failure", subject=user, details={"reason": "disabled"})
        return SignInResult(user, "disabled")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInResult(user)


def unlock_sign_in(user: User) -> None:
    """Clear every sign-in throttle of ``user`` (the caller audits who did it and why)."""
    user.sign_in_unlocked_at = now()
