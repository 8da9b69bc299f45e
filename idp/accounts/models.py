"""The account model of DESIGN.md and the server-side SSO session."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.db import UtcDateTime, db


class AccountType(enum.StrEnum):
    """The two memberships: a temporary one runs out, a permanent one (identity checked) does not."""

    TEMPORARY = "temporary"
    PERMANENT = "permanent"


ACCOUNT_TYPES = tuple(AccountType)
STAFF_STATUSES = ("none", "pending_review", "rejected", "verified")
PERSONNEL_TYPES = ("public", "moc")


def new_subject() -> str:
    """A new, random, never reused subject identifier (``sub``)."""
    return str(uuid.uuid4())


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The OIDC subject: stable, opaque, never the email (OIDC Core 5.7).
    sub: Mapped[str] = mapped_column(String(36), unique=True, default=new_subject)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))

    title_th: Mapped[str | None] = mapped_column(String(40))
    given_name_th: Mapped[str | None] = mapped_column(String(100))
    family_name_th: Mapped[str | None] = mapped_column(String(100))
    given_name_en: Mapped[str | None] = mapped_column(String(100))
    family_name_en: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(20))
    birthdate: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str | None] = mapped_column(String(10))

    personnel_type: Mapped[str] = mapped_column(String(10), default="public")
    department: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))

    # Citizen ID (PDPA): AES-GCM ciphertext, HMAC digest for lookups, and the masked form.
    citizen_id_encrypted: Mapped[str | None] = mapped_column(String(200))
    citizen_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    citizen_id_masked: Mapped[str | None] = mapped_column(String(20))
    verified_given_name_th: Mapped[str | None] = mapped_column(String(100))
    verified_family_name_th: Mapped[str | None] = mapped_column(String(100))
    identity_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pdpa_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    membership_chosen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    account_type: Mapped[str] = mapped_column(String(10), default=AccountType.TEMPORARY.value)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_status: Mapped[str] = mapped_column(String(20), default="none")
    staff_verified_by: Mapped[str | None] = mapped_column(String(10))
    staff_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    roles: Mapped[list] = mapped_column(JSON, default=list)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When an admin last cleared the sign-in throttles: part of every throttle key of the
    # account, so a new value starts every count afresh (idp/accounts/sign_in.py).
    sign_in_unlocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Bumped by each password-reset request: a reset link carries it, so a newer link
    # invalidates the older ones.
    password_reset_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    sessions: Mapped[list[LoginSession]] = relationship(back_populates="user")

    @property
    def is_staff(self) -> bool:
        """Verified MOC staff."""
        return self.staff_status == "verified"

    @property
    def display_name(self) -> str:
        """The person's name (Thai first), else the email."""
        names = [self.given_name_th or self.given_name_en, self.family_name_th or self.family_name_en]
        return " ".join(n for n in names if n) or self.email

    def __repr__(self) -> str:
        return f"<User {self.sub}>"


class LoginSession(db.Model):
    """A server-side SSO session; the browser cookie only carries ``token_hash``'s preimage."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The public session id: the ``sid`` claim of ID and logout tokens.
    sid: Mapped[str] = mapped_column(String(43), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # Admin console (idp/admin): when this session last passed the second factor, and when it
    # last did something in the console (admin sessions time out sooner than SSO sessions).
    mfa_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    admin_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class MembershipReminder(db.Model):
    """One row per reminder mail sent, so the cron job sends each reminder once per expiry
    date (an account whose expiry is extended gets its reminders again)."""

    __tablename__ = "membership_reminders"
    __table_args__ = (UniqueConstraint("user_id", "days_before", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
