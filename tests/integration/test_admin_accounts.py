"""Accounts in the console: search, the account page, and actions with a reason, never on
one's own account."""

from __future__ import annotations

from datetime import timedelta

import admin_support
import pytest
from admin_support import set_roles

from idp.db import db

console = admin_support.console  # the fixture, shared by the console tests


def account(app, sub):
    from idp.accounts.service import find_by_sub

    with app.app_context():
        user = find_by_sub(sub)
        db.session.expunge(user)
        return user


def events(app, prefix):
    from idp.audit import events as audit_events

    with app.app_context():
        return [(e.tag, e.details) for e in audit_events(prefix)]


@pytest.fixture
def admin(console):
    return console()


@pytest.fixture
def member(app, make_user):
    """The account the admin acts on: the flow fixture's person when a test also uses it."""
    from idp.accounts.service import find_by_email

    with app.app_context():
        existing = find_by_email("somchai@example.com")
        if existing is not None:
            return existing.sub
    return make_user(email="somchai@example.com", given_name_en="Somchai")


def userinfo_status(web, tokens) -> int:
    return web.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code


def act(admin, sub, action, reason="Asked by the help desk", **extra):
    return admin.post(f"/admin/accounts/{sub}/{action}", **{f"{action}-reason": reason, **extra})


def test_search_by_email_or_name_finds_the_account(admin, member):
    for query in ("somchai@", "SOMCHAI", "สมชาย ใจดี", "somchai ใจดี", "Somchai"):
        response = admin.post("/admin/accounts", csrf_from="/admin/accounts", query=query)
        assert response.status_code == 200
        assert f"/admin/accounts/{member}" in response.get_data(as_text=True), query
    missing = admin.post("/admin/accounts", csrf_from="/admin/accounts", query="nobody")
    assert f"/admin/accounts/{member}" not in missing.get_data(as_text=True)


def test_search_by_exact_citizen_id_finds_the_account_through_the_keyed_hash(app, admin, member):
    from idp.accounts.pdpa import vault
    from idp.accounts.service import find_by_sub

    with app.app_context():
        user = find_by_sub(member)
        user.citizen_id_hash = vault().digest("1101700230708")
        user.citizen_id_masked = "x-xxxx-xxxx0-70-8"
        db.session.commit()
    found = admin.post("/admin/accounts", csrf_from="/admin/accounts", query="1-1017-00230-70-8")
    html = found.get_data(as_text=True)
    assert f"/admin/accounts/{member}" in html
    assert "1101700230708" not in html.replace("1-1017-00230-70-8", "")
    other = admin.post("/admin/accounts", csrf_from="/admin/accounts", query="3100500123458")
    assert f"/admin/accounts/{member}" not in other.get_data(as_text=True)


def test_search_escapes_like_wildcards(app, member):
    from idp.admin.accounts import search_accounts

    with app.app_context():
        assert search_accounts("%") == [] and search_accounts("_") == []
        assert [u.sub for u in search_accounts("somchai")] == [member]


def test_the_account_page_shows_membership_sessions_consents_and_events(admin, flow, member):
    flow.tokens(flow.secret)  # signs in and consents to "Test RP"
    html = admin.text(f"/admin/accounts/{member}")
    for text in ("somchai@example.com", "Temporary member until", "Test RP", "account:login:success",
                 "oidc:consent:granted"):
        assert text in html, text


def test_disabling_ends_sessions_revokes_tokens_and_tells_the_relying_parties(
        app, admin, web, make_client, member, http):
    from tests.support.flows import Flow

    client_id, secret = make_client(name="BC", backchannel_logout_uri="https://rp.example/bc")
    flow = Flow(web, client_id)
    tokens = flow.tokens(secret)
    response = act(admin, member, "disable")
    assert response.status_code == 302
    assert account(app, member).disabled_at is not None
    assert userinfo_status(web, tokens) == 401
    assert web.get("/account").status_code == 302  # the member's session ended
    assert [url for url, _ in http.posts] == ["https://rp.example/bc"]
    [(tag, details)] = events(app, "admin:account:")
    assert tag == "admin:account:disabled" and details["reason"] == "Asked by the help desk"
    assert details["sessions_ended"] == 1
    assert act(admin, member, "enable").status_code == 302
    assert account(app, member).disabled_at is None


def test_every_action_needs_a_reason(app, admin, member):
    response = act(admin, member, "disable", reason="")
    assert response.status_code == 400
    assert account(app, member).disabled_at is None and events(app, "admin:account:") == []


def test_end_all_sessions(app, admin, flow, member):
    flow.tokens(flow.secret)
    assert act(admin, member, "end-sessions").status_code == 302
    assert flow.web.get("/account").status_code == 302


def test_revoking_staff_status_is_audited_and_cuts_staff_only_clients(app, admin, web, make_client, member):
    from idp.accounts.service import find_by_sub
    from tests.support.flows import Flow

    with app.app_context():
        user = find_by_sub(member)
        user.staff_status, user.staff_verified_by = "verified", "ad"
        db.session.commit()
    client_id, secret = make_client(staff_only=True)
    tokens = Flow(web, client_id).tokens(secret)
    assert act(admin, member, "revoke-staff").status_code == 302
    user = account(app, member)
    assert (user.staff_status, user.staff_verified_by) == ("none", None)
    assert userinfo_status(web, tokens) == 401
    [(tag, details)] = events(app, "admin:account:")
    assert tag == "admin:account:staff_revoked" and details["staff_verified_by"] == "ad"


def test_revoking_a_pending_staff_status_clears_it_without_the_staff_lost_path(app, admin, member):
    from idp.accounts.service import find_by_sub

    with app.app_context():
        user = find_by_sub(member)
        user.staff_status, user.staff_verified_by = "pending_review", "document"
        db.session.commit()
    assert act(admin, member, "revoke-staff").status_code == 302
    user = account(app, member)
    assert (user.staff_status, user.staff_verified_by) == ("none", None)
    assert events(app, "verification:staff:") == []  # nothing was lost: no revoke, no mail
    [(tag, details)] = events(app, "admin:account:")
    assert tag == "admin:account:staff_revoked"
    assert (details["staff_status"], details["staff_verified_by"]) == ("pending_review", "document")


def test_extending_a_temporary_account(app, admin, member, clock):
    last_day = (clock.now() + timedelta(days=90)).date()
    assert act(admin, member, "extend", **{"extend-last_day": last_day.isoformat()}).status_code == 302
    user = account(app, member)
    assert user.expires_at > clock.now() + timedelta(days=90)
    assert user.expires_at <= clock.now() + timedelta(days=92)


def test_extension_refuses_the_past_and_a_buddhist_year_typed_as_common_era(app, admin, member, clock):
    before = account(app, member).expires_at
    for year_offset in (-1, 543):
        day = clock.now().date().replace(year=clock.now().year + year_offset)
        response = act(admin, member, "extend", **{"extend-last_day": day.isoformat()})
        assert response.status_code == 400
    assert account(app, member).expires_at == before


def test_reset_mfa_makes_the_person_enrol_again(app, admin, console):
    other = console(email="other@moc.go.th")
    assert act(admin, other.sub, "reset-mfa").status_code == 302
    assert other.web.get("/admin/").headers["Location"].startswith("/admin/mfa/enrol")


def test_an_admin_gives_and_removes_roles(app, admin, member):
    response = act(admin, member, "roles", **{"roles-roles": ["client_manager"]})
    assert response.status_code == 302
    assert account(app, member).roles == ["client_manager"]
    assert act(admin, member, "roles").status_code == 302  # none ticked: every role removed
    assert account(app, member).roles == []
    tags = [t for t, _ in events(app, "admin:account:roles_changed")]
    assert len(tags) == 2


def test_roles_change_needs_a_fresh_second_factor(admin, member, app):
    admin.clock.advance(minutes=6)
    response = act(admin, member, "roles", **{"roles-roles": ["admin"]})
    assert response.headers["Location"].startswith("/admin/mfa/verify")
    assert account(app, member).roles == []


@pytest.mark.parametrize("action,extra", [
    ("roles", {"roles-roles": ["admin", "reviewer"]}), ("disable", {}), ("enable", {}),
    ("end-sessions", {}), ("reset-mfa", {}),
    ("extend", {"extend-last_day": "2099-01-01"}),
])
def test_an_admin_cannot_act_on_their_own_account(app, admin, action, extra):
    set_roles(app, admin.sub, ["admin"])
    before = account(app, admin.sub)
    response = act(admin, admin.sub, action, **extra)
    assert response.status_code == 403, response.status_code
    after = account(app, admin.sub)
    assert (after.roles, after.disabled_at, after.expires_at) == (before.roles, before.disabled_at,
                                                                   before.expires_at)
    assert events(app, "admin:account:") == []


def test_a_client_manager_cannot_raise_their_own_role(app, console):
    manager = console(roles=("client_manager",), email="cm@moc.go.th")
    response = act(manager, manager.sub, "roles", **{"roles-roles": ["admin"]})
    assert response.status_code == 403
    assert account(app, manager.sub).roles == ["client_manager"]


def test_own_account_page_offers_no_actions(admin):
    html = admin.text(f"/admin/accounts/{admin.sub}")
    assert "Another admin must take any action" in html and "disable-reason" not in html


def test_resend_verification_mails_the_link_again_with_a_reason(admin, member, outbox):
    assert act(admin, member, "resend-verification", reason="").status_code == 400
    assert outbox.messages == []
    assert act(admin, member, "resend-verification").status_code == 302
    [message] = outbox.wait_for("somchai@example.com")
    assert "/email/verify?token=" in message.get_body(preferencelist=("plain",)).get_content()
    assert events(admin.app, "admin:account:verification_resent")
