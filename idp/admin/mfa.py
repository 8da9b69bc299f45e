"""The second factor of admin roles: TOTP (RFC 6238) and one-time recovery codes.

Time comes from the app clock (``idp.clock.now``), so tests move it instead of sleeping. Whether
an SSO session has passed the second factor is kept server-side, on its ``login_sessions`` row
(``mfa_at``), never in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, or_, update

from idp import audit
from idp.accounts.models import LoginSession, User
from idp.admin.models import RecoveryCode, TotpCredential
from idp.clock import now
from idp.db import db
from idp.ratelimit import Throttle

MFA_PER_ACCOUNT = Throttle("MFA_PER_ACCOUNT")
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper and typed by hand. 31 symbols x 16 = 79 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# RFC 6238 5.2: accept one time step of clock drift either way ("at most one time step").
DRIFT_STEPS = 1


# --- the secret, encrypted at rest ----------------------------------------------------------

def _aead() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"moc-idp:totp-secret").derive(current_app.config["SECRET_KEY"].encode())
    return AESGCM(key)


def _seal(secret: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, secret.encode(), b"moc-idp:totp-secret")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(stored: str) -> str | None:
    """The secret, or None when SECRET_KEY changed since enrolment (another admin must reset)."""
    raw = base64.urlsafe_b64decode(stored)
    try:
        return _aead().decrypt(raw[:12], raw[12:], b"moc-idp:totp-secret").decode()
    except (InvalidTag, ValueError):
        return None


# --- enrolment -----------------------------------------------------------------------------

def credential(user: User) -> TotpCredential | None:
    """The account's second-factor credential, or None."""
    return db.session.execute(db.select(TotpCredential).filter_by(user_id=user.id)).scalar_one_or_none()


def is_enrolled(user: User) -> bool:
    """The account has a confirmed second factor."""
    found = credential(user)
    return found is not None and found.confirmed_at is not None


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth:// (Key Uri Format of Google Authenticator, which every app reads)
    qr_svg: str  # inline SVG, drawn here: no script, no outside service sees the secret

    @property
    def grouped_secret(self) -> str:
        """The TOTP secret in groups of four characters, easier to type."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def pending_enrolment(user: User) -> Enrolment:
    """The secret to scan: the same one on every reload until a code confirms it."""
    found = credential(user)
    if found is None:
        found = TotpCredential(user_id=user.id, secret_encrypted=_seal(pyotp.random_base32()),
                               created_at=now())
        db.session.add(found)
        db.session.flush()
    secret = _open(found.secret_encrypted)
    if secret is None:  # a pending secret sealed under an old SECRET_KEY: start over
        secret = pyotp.random_base32()
        found.secret_encrypted = _seal(secret)
    issuer = current_app.config["ADMIN"]["TOTP_ISSUER"]
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, light="#fff", dark="#000",
                                                title="QR")
    return Enrolment(secret, uri, svg)


def confirm_enrolment(user: User, code: str, session: LoginSession) -> list[str] | None:
    """Confirm the pending secret with a first code; returns the recovery codes (shown once)."""
    found = credential(user)
    if found is None or found.confirmed_at is not None or not _totp_accepted(found, code):
        audit.record("admin:mfa:enrolment_failed", actor=user, subject=user)
        return None
    found.confirmed_at = now()
    codes = _new_recovery_codes(user)
    mark_verified(session)
    audit.record("admin:mfa:enrolled", actor=user, subject=user)
    return codes


# --- checking a code -----------------------------------------------------------------------

def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(at.timestamp()) // totp.interval
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _totp_accepted(found: TotpCredential, code: str) -> bool:
    """The code matches a time step newer than the last one used, claimed atomically: of two
    requests with the same code, one wins (RFC 6238 5.2: "MUST NOT accept the second attempt")."""
    secret = _open(found.secret_encrypted)
    step = _matching_step(secret, code, now()) if secret and code.isdigit() else None
    if step is None:
        return False
    claimed = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == found.id,
               or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step))
        .values(last_used_step=step).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(found)
    return claimed


def _normalized_recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalized_recovery(code).encode()).hexdigest()


def _recovery_accepted(user: User, code: str) -> bool:
    """Single use: one conditional UPDATE marks the code used, so it cannot serve twice."""
    if len(_normalized_recovery(code)) != 16:
        return False
    return db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_digest(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now()).execution_options(synchronize_session=False)
    ).rowcount == 1


@dataclass(frozen=True)
class Verification:
    ok: bool
    method: str | None = None  # "totp" | "recovery_code"
    reason: str | None = None  # "throttled" | "wrong_code" | "not_enrolled"


def verify(user: User, code: str, session: LoginSession) -> Verification:
    """Check a TOTP code or a recovery code; on success the session counts as verified now."""
    found = credential(user)
    if found is None or found.confirmed_at is None:
        return Verification(False, reason="not_enrolled")
    if MFA_PER_ACCOUNT.exhausted(user.sub):
        audit.record("admin:mfa:throttled", actor=user, subject=user)
        return Verification(False, reason="throttled")
    code = code.strip().replace(" ", "")
    method = ("totp" if len(code) == 6 and _totp_accepted(found, code)
              else "recovery_code" if _recovery_accepted(user, code) else None)
    if method is None:
        MFA_PER_ACCOUNT.spend(user.sub)
        audit.record("admin:mfa:failed", actor=user, subject=user)
        return Verification(False, reason="wrong_code")
    MFA_PER_ACCOUNT.reset(user.sub)
    mark_verified(session)
    audit.record("admin:mfa:verified", actor=user, subject=user, details={"method": method})
    return Verification(True, method)


def mark_verified(session: LoginSession) -> None:
    """Note in the session that its person passed the second factor just now."""
    session.mfa_at = session.admin_seen_at = now()


# --- recovery codes and reset ----------------------------------------------------------------

def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
             for _ in range(RECOVERY_CODE_COUNT)]
    moment = now()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(c), created_at=moment)
                       for c in codes)
    return ["-".join(c[i:i + 4] for i in range(0, 16, 4)) for c in codes]


def regenerate_recovery_codes(user: User) -> list[str]:
    """New codes (shown once); the old ones stop working."""
    codes = _new_recovery_codes(user)
    audit.record("admin:mfa:recovery_codes_regenerated", actor=user, subject=user)
    return codes


def unused_recovery_codes(user: User) -> int:
    """How many recovery codes the account has left."""
    return len(db.session.execute(
        db.select(RecoveryCode.id).filter_by(user_id=user.id, used_at=None)).all())


def reset(user: User) -> None:
    """Forget the second factor: the person enrols again at the next admin sign-in, and none
    of their sessions counts as verified any more."""
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id)
                       .values(mfa_at=None).execution_options(synchronize_session=False))
