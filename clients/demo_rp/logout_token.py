"""Validating a Back-Channel Logout 1.0 logout token (section 2.6)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 120


class InvalidLogoutToken(ValueError):
    """The logout token must be refused (answered with 400)."""


def validate_logout_token(token: str, *, fetch_jwks, issuer: str, client_id: str) -> dict:
    """The claims of a valid logout token; ``fetch_jwks(force)`` returns the IdP's key set."""
    try:
        claims = _verified_claims(token, fetch_jwks)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(claims)
    except (JoseError, ValueError) as error:
        raise InvalidLogoutToken(f"the logout token is not valid: {error}") from None
    _check_logout_claims(claims)
    return claims


def _verified_claims(token: str, fetch_jwks) -> dict:
    """Check the signature against the IdP's JWKS, fetched again once for an unknown key id."""
    try:
        return jwt.decode(token, KeySet.import_key_set(fetch_jwks(False)), ALGORITHMS).claims
    except InvalidKeyIdError:
        return jwt.decode(token, KeySet.import_key_set(fetch_jwks(True)), ALGORITHMS).claims


def _check_logout_claims(claims: dict) -> None:
    """Section 2.6, steps 4 to 6: the logout event, ``sub`` or ``sid``, and no ``nonce``."""
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise InvalidLogoutToken(f"events must contain {BACKCHANNEL_EVENT}")
    if not (claims.get("sid") or claims.get("sub")):
        raise InvalidLogoutToken("a logout token names a sid or a sub")
    if "nonce" in claims:
        raise InvalidLogoutToken("a logout token must not contain a nonce")
