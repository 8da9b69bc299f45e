"""Signing in once, signing out everywhere, and a forgotten password (seed flow 7)."""

from __future__ import annotations

import re

from tests.e2e.pages import Account, Member, RelyingParty, new_password
from tests.support.smtp import body_of


def test_sign_out_at_the_service_ends_the_moc_account_session(tab, demo_rp, existing_account):
    account = existing_account()
    rp = RelyingParty(tab, demo_rp.url).open()
    rp.press_sign_in("login")
    member = Member(tab).sign_in(account, "consent")
    member.allow("rp-signed-in")
    assert rp.claims()["email"] == account.email

    rp.sign_out("rp-signed-out")
    if tab.on_idp():  # the IdP may ask to confirm (RP-Initiated Logout 1.0, section 6)
        tab.click("main form[action$='/logout/confirm'] button[value=yes]", "rp-signed-out")
    assert rp.at_start()
    assert tab.page.locator("form[action$='/login']").count() == 1  # the RP's sign-in button again

    tab.goto("/account", "idp-after-sign-out", path="/login")  # the IdP session is over too
    rp.press_sign_in("login-again")
    assert tab.on_idp() and tab.path == "/login", "signing in to the RP again needs the password"


def test_single_sign_on_a_service_needs_no_password_after_signing_in(tab, demo_rp, existing_account):
    account = existing_account()
    tab.goto("/login", "login")
    member = Member(tab).sign_in(account, "account")
    assert tab.path == "/account"
    rp = RelyingParty(tab, demo_rp.url).open()
    rp.press_sign_in("consent")
    assert tab.path == "/consent"  # no login page on the way
    member.allow("rp-signed-in")
    assert rp.claims()["email"] == account.email


def test_forgotten_password_is_reset_through_the_mailed_link(tab, outbox, existing_account):
    account = existing_account()
    tab.goto("/login", "login")
    tab.click("main a[href$='/password/forgot']", "forgot-password", path="/password/forgot")
    tab.page.fill("#email", account.email)
    tab.click("main form[action$='/password/forgot'] button[type=submit]", "link-sent")
    assert tab.page.locator("main [role=status]").count() == 1

    mail = outbox.wait_for(account.email)
    assert mail, f"no mail to {account.email}"
    link = re.search(r"https?://\S+/password/reset\?token=\S+", body_of(mail[-1]))
    assert link, body_of(mail[-1])
    tab.goto(link.group(0), "choose-new-password", path="/password/reset")
    renewed = Account(account.email, new_password())
    tab.page.fill("#password", renewed.password)
    tab.page.fill("#password_confirm", renewed.password)
    tab.click("main form[action$='/password/reset'] button[type=submit]", "login-with-new", path="/login")

    Member(tab).sign_in(renewed, "account")
    assert tab.path == "/account"


def test_change_password_from_the_account_page(tab, existing_account):
    account = existing_account()
    tab.goto("/login", "login")
    Member(tab).sign_in(account, "account")
    tab.click("main a[href$='/account/password']", "change-password", path="/account/password")
    renewed = new_password()
    tab.page.fill("#current_password", account.password)
    tab.page.fill("#password", renewed)
    tab.page.fill("#password_confirm", renewed)
    member = Member(tab)
    tab.click("main form button[type=submit]", "password-changed", path="/account")
    member.sign_out()
    tab.goto("/login", "login-again")
    member.sign_in(Account(account.email, renewed), "account-again")
    assert tab.path == "/account"
