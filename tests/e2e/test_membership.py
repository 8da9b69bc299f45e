"""Signing up as the seed guide says (steps 1–3.4), and becoming permanent later."""

from __future__ import annotations

import time

from tests.e2e.conftest import stored_user
from tests.e2e.pages import Member, RelyingParty


def test_temporary_member_signs_up_and_reaches_a_service_at_once(tab, idp, demo_rp, people, account):
    member = Member(tab)
    member.register(people.take("public"), account)
    member.choose_temporary("account")
    assert tab.path == "/account"
    assert "สมาชิกชั่วคราว" in tab.text(".facts")

    rp = RelyingParty(tab, demo_rp.url).open()
    rp.press_sign_in("consent")  # signed in at the IdP already: only the consent is left
    member.allow("rp-signed-in")

    claims = rp.claims()
    assert claims["email"] == account.email
    assert claims["moc_account_type"] == "temporary"
    assert claims["moc_staff"] is False
    expires_at = claims["moc_account_expires_at"]
    assert isinstance(expires_at, int)
    assert 59 * 86400 < expires_at - time.time() <= 60 * 86400
    assert stored_user(idp, account.email).account_type == "temporary"


def test_temporary_member_comes_back_and_becomes_permanent(open_tab, idp, demo_rp, people, account):
    person = people.take("public")
    first_visit = open_tab("member")
    Member(first_visit).register(person, account).choose_temporary("account")

    tab = open_tab("member-again")  # another day: a browser with no cookies
    member = Member(tab)
    tab.goto("/account", "sign-in", path="/login")
    member.sign_in(account, "account")
    tab.click("main .facts a[href$='/verify']", "verify-choose-method", path="/verify")
    member.verify_as_public(person)
    assert tab.path == "/account"
    assert "สมาชิกถาวร" in tab.text(".facts")

    rp = RelyingParty(tab, demo_rp.url).open()
    rp.press_sign_in("consent")
    member.allow("rp-signed-in")
    claims = rp.claims()
    assert claims["moc_account_type"] == "permanent"
    assert claims["moc_account_expires_at"] is None
    assert claims["moc_identity_verified"] is True
