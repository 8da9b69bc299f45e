"""The claims contract of DESIGN.md: what the ID token and userinfo say about an account.

Claims come from the account alone; a value a client asks for (e.g. in a ``claims`` request
parameter) is never echoed.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import scope_to_list

from idp.accounts.models import User
from idp.clock import timestamp


def account_claims(user: User) -> dict:
    """In every ID token and userinfo answer, whatever the scope."""
    return {
        "moc_staff": user.is_staff,
        "moc_account_type": user.account_type,
        "moc_account_expires_at": timestamp(user.expires_at) if user.expires_at else None,
    }


def profile_claims(user: User) -> dict:
    """The ``profile`` scope's claims (OIDC Core 5.4)."""
    claims = {
        "name": " ".join(n for n in (user.given_name_th, user.family_name_th) if n) or None,
        "given_name": user.given_name_th,
        "family_name": user.family_name_th,
        "given_name#en": user.given_name_en,
        "family_name#en": user.family_name_en,
        "gender": user.gender,
        "birthdate": user.birthdate.isoformat() if user.birthdate else None,
        "locale": user.locale,
    }
    if user.given_name_en or user.family_name_en:
        claims["name#en"] = " ".join(n for n in (user.given_name_en, user.family_name_en) if n)
    return {k: v for k, v in claims.items() if v}


def email_claims(user: User) -> dict:
    """The ``email`` scope's claims (OIDC Core 5.4)."""
    return {"email": user.email, "email_verified": bool(user.email_verified)}


def moc_claims(user: User) -> dict:
    """The claims of the MOC-specific ``moc`` scope."""
    claims = {
        "moc_identity_verified": bool(user.identity_verified),
        "moc_department": user.department,
        "moc_position": user.position,
    }
    if user.is_staff:
        claims["moc_staff_verified_by"] = user.staff_verified_by
    return {k: v for k, v in claims.items() if v is not None}


SCOPE_CLAIMS = {"profile": profile_claims, "email": email_claims, "moc": moc_claims}


def user_claims(user: User, scope: str) -> dict:
    """``sub``, the account claims, and the claims each granted scope releases."""
    claims = {"sub": user.sub, **account_claims(user)}
    for name in scope_to_list(scope) or []:
        if name in SCOPE_CLAIMS:
            claims.update(SCOPE_CLAIMS[name](user))
    return claims
