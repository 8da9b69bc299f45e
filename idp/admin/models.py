"""The second factor of admin roles: a TOTP credential (RFC 6238) and one-time recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import UtcDateTime, db


class TotpCredential(db.Model):
    """One per account. Pending (``confirmed_at`` None) until a first code proves the app has it."""

    __tablename__ = "mfa_totp_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # AES-GCM under a key derived from SECRET_KEY: a database dump alone does not give codes.
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The newest time step a code was accepted for: codes of that step and older are refused,
    # so a code cannot be replayed within its window.
    last_used_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(db.Model):
    """A single-use code for when the authenticator app is lost; only its SHA-256 is kept
    (80 random bits: a fast digest is as strong as a slow one here)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
