"""Token-endpoint grants: thin subclasses of Authlib's, closing what Authlib leaves open.

Authlib authenticates the client and validates the request shape; these subclasses make codes
and refresh tokens single-use without a race, accept PKCE S256 only, cap every token at the
account's expiry, and add the ID token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oidc.core.grants.util import is_openid_scope

from idp import audit
from idp.clock import now
from idp.oidc import presented, tokens
from idp.oidc.codes import redeem_code
from idp.oidc.policy import Refusal, may_get_tokens

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def s256(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL(SHA256(verifier)), the S256 code challenge."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def check_code_verifier(code, verifier: str | None) -> None:
    """RFC 7636 4.6, S256 only; and RFC 9700 2.1.1: a verifier without a challenge is refused."""
    if code.code_challenge is None:
        if verifier:
            raise InvalidGrantError("code_verifier sent but no code_challenge was used")
        return
    if not verifier:
        raise InvalidRequestError("Missing 'code_verifier'")
    # RFC 7636 4.1: code-verifier = 43*128unreserved. A malformed parameter is invalid_request
    # (RFC 6749 5.2: "includes an unsupported parameter value ... or is otherwise malformed").
    if not CODE_VERIFIER.fullmatch(verifier):
        raise InvalidRequestError("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
    if not hmac.compare_digest(s256(verifier), code.code_challenge):
        raise InvalidGrantError("code_verifier does not match the code_challenge")


def usable_user(user, client=None):
    """The user if the account may receive tokens now at ``client`` (``policy.may_get_tokens``)."""
    refusal = Refusal.ACCOUNT_DISABLED if user is None else may_get_tokens(user, client, now())
    if refusal is None:
        return user
    if refusal.is_about_the_account:
        raise InvalidGrantError("the account is disabled or has expired")
    raise InvalidGrantError(f"this client's policy refuses the account ({refusal})")


def token_response(grant: tokens.Grant, include_refresh_token: bool) -> dict:
    """The token response for ``grant``, with an ID token when ``openid`` was granted."""
    response, _ = tokens.issue(grant, include_refresh_token=include_refresh_token)
    if is_openid_scope(grant.scope):
        response["id_token"] = tokens.id_token(grant, access_token=response["access_token"])
    return response


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def query_authorization_code(self, code, client):
        """Authlib hook: the unused, unexpired code for this client (marked used at once)."""
        return redeem_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: ``redeem_code`` marked it used, and used codes are kept to detect reuse."""

    def authenticate_user(self, authorization_code):
        """Authlib hook: the account the grant is for, if it may still get tokens."""
        return usable_user(authorization_code.user, self.request.client)

    def save_authorization_code(self, code, request):  # pragma: no cover - see codes.issue_code
        """Authlib hook, unused: codes are issued by the authorization view."""
        raise NotImplementedError("codes are issued by idp.oidc.authorize, not by Authlib")

    def create_token_response(self):
        """Check PKCE, then issue tokens (RFC 6749 4.1.4) and the ID token (OIDC Core 3.1.3.3)."""
        code = self.request.authorization_code
        check_code_verifier(code, self.request.form.get("code_verifier"))
        user = self.authenticate_user(code)
        client = self.request.client
        grant = tokens.Grant(
            client=client, user=user, scope=code.scope, sid=code.sid, auth_time=code.auth_time,
            amr=tuple(code.amr or ()), nonce=code.nonce, code_hash=code.code_hash,
        )
        include_refresh = client.check_grant_type("refresh_token") and "offline_access" in code.scope.split()
        return 200, token_response(grant, include_refresh), self.TOKEN_RESPONSE_HEADER


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        """The row of an unused, unrevoked, unexpired refresh token, claimed for this call."""
        row = tokens.claim_refresh_token(refresh_token)
        if row is None or row.refresh_expires_at is None or row.refresh_expires_at <= now():
            return None
        return presented.PresentedToken(row, "refresh_token")

    def authenticate_user(self, refresh_token):
        """Authlib hook: the account the grant is for, if it may still get tokens."""
        return usable_user(refresh_token.row.user, self.request.client)

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: claiming the refresh token already marked it used."""

    def create_token_response(self):
        """A rotated refresh token in the same family, a new access token and ID token
        (OIDC Core 12.2: ``iss``, ``sub``, ``aud``, ``auth_time`` as in the original)."""
        old = self.request.refresh_token.row
        user = self.authenticate_user(self.request.refresh_token)
        scope = self.request.payload.scope or old.scope
        grant = tokens.Grant(
            client=self.request.client, user=user, scope=scope, sid=old.sid,
            auth_time=old.auth_time, amr=tuple(old.amr or ()), family_id=old.family_id,
            code_hash=old.code_hash,
        )
        return 200, token_response(grant, True), self.TOKEN_RESPONSE_HEADER



# Scopes that only mean something when a person signs in: a service client's token never
# carries them, so it can never lead to an ID token, userinfo or a refresh token.
USER_ONLY_SCOPES = ("openid", "offline_access")


def service_scope(client, requested: str | None) -> str:
    """RFC 6749 3.3 and 4.4.2: the requested scope if the client may have all of it, else
    invalid_scope; without a request, everything the admin allowed for the client."""
    allowed = [s for s in client.scope.split() if s not in USER_ONLY_SCOPES]
    if not requested:
        return " ".join(allowed)
    wanted = list(dict.fromkeys(requested.split()))
    if not set(wanted) <= set(allowed):
        raise InvalidScopeError("the client may not have this scope")
    return " ".join(wanted)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine-to-machine tokens for a service client (RFC 6749 4.4): no user, no refresh token
    ("A refresh token SHOULD NOT be included", 4.4.3) and no ID token. Authlib authenticates
    the client and refuses one without the grant (unauthorized_client)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def create_token_response(self):
        """Issue the service client's own access token (RFC 6749 4.4.3): no refresh token, no person."""
        client = self.request.client
        scope = service_scope(client, self.request.payload.scope)
        grant = tokens.Grant(client=client, user=None, scope=scope, sid=None, auth_time=None)
        response, _ = tokens.issue(grant, include_refresh_token=False)
        audit.record("oidc:token:client_credentials", client_id=client.client_id,
                     details={"scope": scope})
        return 200, response, self.TOKEN_RESPONSE_HEADER
