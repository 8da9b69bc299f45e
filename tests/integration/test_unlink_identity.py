"""Unlinking an account's identity (console and CLI): the one way the bound person changes.
It drops staff status, revokes tokens, ends sessions with back-channel logout, and is audited."""

from __future__ import annotations

import admin_support
import pytest
from admin_support import set_roles

from tests.support.flows import Flow, csrf_token

console = admin_support.console  # the fixture, shared by the console tests

SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}      # in AD (enabled) and in DPIS
RAW_ID = "1101700230708"


def stored(app, email="somchai@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return {c.name: getattr(user, c.name) for c in user.__table__.columns}


def events(app, prefix):
    from idp.audit import events as audit_events

    with app.app_context():
        return [(e.tag, e.details) for e in audit_events(prefix)]


@pytest.fixture
def staff_member(app, make_user, make_client):
    """A member verified by DOPA and AD, signed in to an RP with back-channel logout."""
    sub = make_user(email="somchai@example.com")
    web = app.test_client()
    Flow(web, "x").sign_in()
    page = web.get("/verify/staff").get_data(as_text=True)
    web.post("/verify/staff", data={**SOMCHAI, "csrf_token": csrf_token(page)})
    assert stored(app)["staff_verified_by"] == "ad"
    client_id, secret = make_client(name="BC", trusted=True,
                                    backchannel_logout_uri="https://rp.example/bc")
    tokens = Flow(web, client_id).tokens(secret)
    return {"sub": sub, "web": web, "tokens": tokens, "client": (client_id, secret)}


def assert_unlinked(app, staff_member, http, clock):
    from idp.accounts.membership import temporary_expiry

    user = stored(app)
    assert user["sub"] == staff_member["sub"]
    for column in ("citizen_id_encrypted", "citizen_id_hash", "citizen_id_masked",
                   "verified_given_name_th", "verified_family_name_th", "identity_verified_at",
                   "staff_verified_by"):
        assert user[column] is None, column
    assert user["identity_verified"] is False and user["staff_status"] == "none"
    assert user["account_type"] == "temporary"
    assert user["expires_at"] == temporary_expiry(clock.now(), 60)
    web, tokens = staff_member["web"], staff_member["tokens"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert web.get("/userinfo", headers=bearer).status_code == 401
    client_id, secret = staff_member["client"]
    refresh = web.post("/token", data={"grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]}, auth=(client_id, secret))
    assert refresh.status_code == 400
    assert web.get("/account").status_code == 302  # the member's session ended
    assert "https://rp.example/bc" in [url for url, _ in http.posts]
    assert "verification:staff:revoked" in [tag for tag, _ in events(app, "verification:staff")]
    [(_, details)] = events(app, "verification:identity:unlinked")
    assert details["reason"] == "Bound to the wrong person" and RAW_ID not in str(details)


def test_an_admin_unlinks_the_identity_from_the_console(app, console, staff_member, http, clock, outbox):
    admin = console()
    response = admin.post(f"/admin/accounts/{staff_member['sub']}/unlink-identity",
                          **{"unlink-identity-reason": "Bound to the wrong person"})
    assert response.status_code == 302
    assert_unlinked(app, staff_member, http, clock)
    [(tag, details)] = events(app, "admin:account:identity_unlinked")
    assert details["reason"] == "Bound to the wrong person" and details["staff_revoked"] is True
    assert outbox.wait_for("somchai@example.com")  # the member is told staff status is gone


def test_after_unlinking_the_citizen_id_can_back_another_account(app, console, staff_member, make_user):
    admin = console()
    admin.post(f"/admin/accounts/{staff_member['sub']}/unlink-identity",
               **{"unlink-identity-reason": "Bound to the wrong person"})
    make_user(email="real@example.com")
    web = app.test_client()
    Flow(web, "x").sign_in(email="real@example.com")
    page = web.get("/verify/identity").get_data(as_text=True)
    response = web.post("/verify/identity", data={**SOMCHAI, "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and stored(app, "real@example.com")["identity_verified"]


def test_the_console_button_is_on_the_account_page_of_a_verified_member(console, staff_member):
    html = console().text(f"/admin/accounts/{staff_member['sub']}")
    assert f"/admin/accounts/{staff_member['sub']}/unlink-identity" in html


def test_unlinking_needs_a_reason(app, console, staff_member):
    admin = console()
    response = admin.post(f"/admin/accounts/{staff_member['sub']}/unlink-identity",
                          **{"unlink-identity-reason": ""})
    assert response.status_code == 400 and stored(app)["identity_verified"] is True


def test_unlinking_needs_a_fresh_second_factor(app, console, staff_member):
    admin = console()
    admin.clock.advance(minutes=6)
    response = admin.post(f"/admin/accounts/{staff_member['sub']}/unlink-identity",
                          **{"unlink-identity-reason": "Bound to the wrong person"})
    assert response.headers["Location"].startswith("/admin/mfa/verify")
    assert stored(app)["identity_verified"] is True


@pytest.mark.parametrize("roles", [("reviewer",), ("client_manager",)])
def test_only_the_account_admin_may_unlink(app, console, staff_member, roles):
    person = console(roles=roles, email=f"{roles[0]}@moc.go.th")
    response = person.post(f"/admin/accounts/{staff_member['sub']}/unlink-identity",
                           **{"unlink-identity-reason": "Bound to the wrong person"})
    assert response.status_code == 403 and stored(app)["identity_verified"] is True


def test_unlinking_a_member_without_an_identity_is_refused(app, console, make_user):
    sub = make_user(email="plain@example.com")
    response = console().post(f"/admin/accounts/{sub}/unlink-identity",
                              **{"unlink-identity-reason": "Bound to the wrong person"})
    assert response.status_code == 400
    assert events(app, "admin:account:identity_unlinked") == []


def test_the_cli_unlinks_the_identity(app, staff_member, http, clock):
    result = app.test_cli_runner().invoke(args=[
        "accounts", "unlink-identity", "somchai@example.com", "--reason", "Bound to the wrong person"])
    assert result.exit_code == 0, result.output
    assert staff_member["sub"] in result.output
    assert_unlinked(app, staff_member, http, clock)


def test_the_cli_refuses_an_account_without_an_identity(app, make_user):
    make_user(email="plain@example.com")
    result = app.test_cli_runner().invoke(args=[
        "accounts", "unlink-identity", "plain@example.com", "--reason", "Bound to the wrong person"])
    assert result.exit_code == 2


def test_admin_search_by_citizen_id_is_audited_without_the_id(app, console, staff_member):
    admin = console()
    set_roles(app, admin.sub, ["admin"])
    response = admin.post("/admin/accounts", csrf_from="/admin/accounts", query="1-1017-00230-70-8")
    assert f"/admin/accounts/{staff_member['sub']}" in response.get_data(as_text=True)
    [(tag, details)] = events(app, "admin:account:searched")
    assert tag == "admin:account:searched_by_citizen_id" and details["results"] == 1
    assert RAW_ID not in str(details) and "1-1017" not in str(details)
    assert details["citizen_id"] == "x-xxxx-xxxx0-70-8"
    admin.post("/admin/accounts", csrf_from="/admin/accounts", query="somchai")
    assert len(events(app, "admin:account:searched")) == 1  # name searches are not personal data
