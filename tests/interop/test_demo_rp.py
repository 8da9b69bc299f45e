"""The demo RP (Authlib's Flask client) end to end against the live IdP."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from clients.demo_rp.logout_token import BACKCHANNEL_EVENT
from clients.demo_rp.sessions import local_sessions


def json_block(page, element_id: str) -> dict:
    """The JSON the RP's page prints in ``<pre id=element_id>``."""
    found = re.search(rf'<pre id="{element_id}"[^>]*>(.*?)</pre>', page.text, re.DOTALL)
    assert found, f"no <pre id={element_id!r}> on {page.url}"
    return json.loads(html.unescape(found.group(1)))


def table_row(page, table_id: str, claim: str) -> str:
    """The shown value of ``claim`` in the RP's table ``table_id``."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page.text, re.DOTALL)
    assert table, f"no table {table_id!r} on {page.url}"
    row = re.search(rf"<code>{re.escape(claim)}</code></th><td>(.*?)</td>", table.group(1))
    assert row, f"no row for {claim!r} in {table_id!r}"
    return html.unescape(row.group(1))


def sign_in(browser, demo_rp):
    """Sign in at the demo RP; returns its signed-in start page."""
    page = browser.sign_in(f"{demo_rp.url}/login")
    assert page.status_code == 200 and page.url == f"{demo_rp.url}/", page.text[:500]
    return page


def is_idp_login_page(response, idp) -> bool:
    return response.url.startswith(f"{idp.url}/login") and 'name="password"' in response.text


def test_sign_in_shows_the_moc_claims_of_a_temporary_member(browser, demo_rp, member):
    page = sign_in(browser, demo_rp)

    claims = json_block(page, "claims")
    assert claims["sub"] == member.sub
    assert claims["moc_account_type"] == "temporary"
    assert claims["moc_staff"] is False
    assert isinstance(claims["moc_account_expires_at"], int)
    assert claims["moc_account_expires_at"] > time.time()
    assert claims["sid"] and claims["nonce"]
    assert table_row(page, "claims-table", "moc_account_type") == "temporary"
    assert table_row(page, "claims-table", "moc_staff") == "false"
    assert "Account type" in page.text and "Verified MOC staff" in page.text


def test_sign_in_shows_the_userinfo_response(browser, demo_rp, member):
    page = sign_in(browser, demo_rp)

    userinfo = json_block(page, "userinfo")
    assert userinfo["sub"] == member.sub
    assert userinfo["email"] == member.email
    assert userinfo["name"] == "สมชาย ใจดี"
    assert userinfo["moc_account_type"] == "temporary"
    assert table_row(page, "userinfo-table", "email") == member.email


def test_refresh_shows_new_claims_and_the_old_refresh_token_is_refused(browser, demo_rp, idp):
    page = sign_in(browser, demo_rp)
    before = json_block(page, "claims")
    old_refresh_token = local_sessions(demo_rp.app).find_by_sid(before["sid"]).refresh_token

    page = browser.submit(page, "/refresh")

    after = json_block(page, "claims")
    assert "Tokens refreshed" in page.text
    assert (after["sub"], after["sid"]) == (before["sub"], before["sid"])
    assert after["at_hash"] != before["at_hash"]
    new_refresh_token = local_sessions(demo_rp.app).find_by_sid(after["sid"]).refresh_token
    assert new_refresh_token not in (None, old_refresh_token)
    refused = idp.token_request(demo_rp.client, grant_type="refresh_token",
                                refresh_token=old_refresh_token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_logout_ends_the_idp_session_and_the_back_channel_ends_the_rp_session(
        browser, demo_rp, idp):
    page = sign_in(browser, demo_rp)
    sid = json_block(page, "claims")["sid"]
    assert local_sessions(demo_rp.app).find_by_sid(sid) is not None

    to_idp = browser.submit(page, "/logout", allow_redirects=False)
    assert to_idp.headers["Location"].startswith(f"{idp.url}/logout?")
    assert local_sessions(demo_rp.app).find_by_sid(sid) is not None  # until the IdP says so
    back = browser.get(to_idp.headers["Location"], allow_redirects=False)

    # The IdP ended its session and posted the logout token before redirecting back.
    assert back.is_redirect and back.headers["Location"].startswith(f"{demo_rp.url}/?")
    assert parse_qs(urlsplit(back.headers["Location"]).query)["state"]
    assert local_sessions(demo_rp.app).find_by_sid(sid) is None
    page = browser.get(back.headers["Location"])
    assert "You have signed out of MOC Account" in page.text
    assert "Sign in with MOC Account" in page.text
    assert is_idp_login_page(browser.get(f"{demo_rp.url}/login"), idp)


def test_signing_out_at_the_idp_ends_the_rp_session(browser, demo_rp, idp):
    page = sign_in(browser, demo_rp)
    sid = json_block(page, "claims")["sid"]

    browser.submit(browser.get(f"{idp.url}/account"), "/signout")

    assert local_sessions(demo_rp.app).find_by_sid(sid) is None
    assert "Sign in with MOC Account" in browser.get(f"{demo_rp.url}/").text


def test_logout_return_with_a_foreign_state_is_refused(browser, demo_rp):
    sign_in(browser, demo_rp)

    page = browser.get(f"{demo_rp.url}/?state=not-the-one-we-sent")

    assert page.status_code == 400
    assert "Signed in as" in browser.get(f"{demo_rp.url}/").text


def test_back_channel_refuses_an_id_token_and_keeps_the_session(browser, demo_rp):
    page = sign_in(browser, demo_rp)
    local = local_sessions(demo_rp.app).find_by_sid(json_block(page, "claims")["sid"])

    answer = requests.post(f"{demo_rp.url}/backchannel-logout",
                           data={"logout_token": local.id_token}, timeout=10)

    assert answer.status_code == 400
    assert local_sessions(demo_rp.app).get(local.id) is local


def logout_claims(idp, demo_rp, claims: dict) -> dict:
    """The claims of a valid logout token for the session the ID token ``claims`` came from."""
    now = int(time.time())
    return {
        "iss": idp.url, "aud": demo_rp.client.client_id, "iat": now, "exp": now + 120,
        "jti": secrets.token_urlsafe(8), "sub": claims["sub"], "sid": claims["sid"],
        "events": {BACKCHANNEL_EVENT: {}},
    }


@pytest.mark.parametrize(("change", "expected_status"), [
    ({}, 200),
    ({"events": None}, 400),
    ({"events": {"http://schemas.openid.net/event/other": {}}}, 400),
    ({"nonce": "n-0S6_WzA2Mj"}, 400),
    ({"aud": "another-client"}, 400),
    ({"iss": "http://127.0.0.1:9"}, 400),
    ({"iat": None}, 400),
    ({"exp": 1_000_000_000}, 400),
    ({"sid": None, "sub": None}, 400),
], ids=["valid", "no-events", "other-event", "nonce", "other-audience", "other-issuer",
        "no-iat", "expired", "no-sid-no-sub"])
def test_back_channel_checks_the_logout_token(browser, demo_rp, idp, change, expected_status):
    page = sign_in(browser, demo_rp)
    claims = json_block(page, "claims")
    token_claims = {**logout_claims(idp, demo_rp, claims), **change}
    token = idp.sign({k: v for k, v in token_claims.items() if v is not None}, typ="logout+jwt")

    answer = requests.post(f"{demo_rp.url}/backchannel-logout", data={"logout_token": token},
                           timeout=10)

    assert answer.status_code == expected_status, answer.text
    still_signed_in = local_sessions(demo_rp.app).find_by_sid(claims["sid"]) is not None
    assert still_signed_in == (expected_status == 400)


def test_back_channel_refuses_a_token_signed_with_another_key(browser, demo_rp, idp):
    page = sign_in(browser, demo_rp)
    claims = json_block(page, "claims")
    published_kid = requests.get(f"{idp.url}/jwks.json", timeout=10).json()["keys"][0]["kid"]
    forged = jwt.encode({"alg": "RS256", "kid": published_kid, "typ": "logout+jwt"},
                        logout_claims(idp, demo_rp, claims), RSAKey.generate_key(2048))

    answer = requests.post(f"{demo_rp.url}/backchannel-logout", data={"logout_token": forged},
                           timeout=10)

    assert answer.status_code == 400
    assert local_sessions(demo_rp.app).find_by_sid(claims["sid"]) is not None


def test_back_channel_refuses_a_token_that_is_not_a_jwt(demo_rp):
    answer = requests.post(f"{demo_rp.url}/backchannel-logout",
                           data={"logout_token": "not.a.jwt"}, timeout=10)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
