"""Who may open what in the console: every rule under /admin, with every role and with none;
CSRF on every form."""

from __future__ import annotations

import admin_support
import pytest
import sqlalchemy as sa

from idp.db import db

console = admin_support.console  # the fixture, shared by the console tests

# Every console endpoint and the roles it is for (admin may always). A new route must be added
# here, or test_the_table_names_every_admin_route fails.
ANY = {"admin", "client_manager", "reviewer"}
EXPECTED = {
    "admin.home": ANY,
    "admin.mfa_enrol": ANY,
    "admin.mfa_verify": ANY,
    "admin.mfa_recovery_codes": ANY,
    "admin.clients_list": {"admin", "client_manager"},
    "admin.client_new": {"admin", "client_manager"},
    "admin.client_detail": {"admin", "client_manager"},
    "admin.client_edit": {"admin", "client_manager"},
    "admin.client_rotate_secret": {"admin", "client_manager"},
    "admin.client_disable": {"admin", "client_manager"},
    "admin.client_enable": {"admin", "client_manager"},
    "admin.client_delete": {"admin", "client_manager"},
    "admin.accounts_search": {"admin"},
    "admin.account_detail": {"admin"},
    "admin.account_disable": {"admin"},
    "admin.account_enable": {"admin"},
    "admin.account_end_sessions": {"admin"},
    "admin.account_unlock_sign_in": {"admin"},
    "admin.account_revoke_staff": {"admin"},
    "admin.account_reset_mfa": {"admin"},
    "admin.account_resend_verification": {"admin"},
    "admin.account_extend": {"admin"},
    "admin.account_roles": {"admin"},
    "admin.account_unlink_identity": {"admin"},
    "admin.audit_log": {"admin"},
    "admin.audit_export": {"admin"},
    "admin.keys_list": {"admin"},
    "admin.keys_rotate": {"admin"},
    "admin.review_queue": {"admin", "reviewer"},
    "admin.review_detail": {"admin", "reviewer"},
    "admin.review_document": {"admin", "reviewer"},
    "admin.review_approve": {"admin", "reviewer"},
    "admin.review_reject": {"admin", "reviewer"},
}
# The MFA pages are how one gets the second factor, so they cannot require it.
MFA_PAGES = {"admin.mfa_enrol", "admin.mfa_verify"}
ROLES = ("admin", "client_manager", "reviewer")


def admin_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]


def test_the_table_names_every_admin_route(app):
    assert {r.endpoint for r in admin_rules(app)} == set(EXPECTED)


@pytest.fixture
def world(app, make_user, make_client):
    """A target account and a client for the rules that name one. No staff application exists:
    the review rules answer 404 once past the guard, which is still checked first."""
    target = make_user(email="target@example.com")
    client_id, _ = make_client()
    return {"sub": target, "client_id": client_id, "application_id": "999999", "document_id": "none"}



def requests_for(app, world):
    """(endpoint, path, method) for every rule: GET where allowed, else POST."""
    for rule in admin_rules(app):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", world[name]).replace(f"<{name}>", world[name])
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, path, method


def send(person_web, method, path, token):
    if method == "GET":
        return person_web.get(path)
    return person_web.post(path, data={"csrf_token": token})


def test_anonymous_is_sent_to_sign_in_everywhere(app, web, world):
    from tests.support.flows import csrf_token

    token = csrf_token(web.get("/login").get_data(as_text=True))
    for endpoint, path, method in requests_for(app, world):
        response = send(web, method, path, token)
        assert response.status_code == 302, (endpoint, response.status_code)
        assert response.headers["Location"].startswith("/login"), endpoint


def test_a_member_without_a_role_gets_403_everywhere(app, world, console):
    member = console(roles=(), email="member@example.com", enrol=False)
    token = member.token()
    for endpoint, path, method in requests_for(app, world):
        assert send(member.web, method, path, token).status_code == 403, endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_held_to_its_own_screens(app, world, console, role):
    """Wrong role → 403 whatever the method; right role without MFA → the MFA pages."""
    person = console(roles=(role,), email=f"{role}@moc.go.th", enrol=False)
    token = person.token()
    for endpoint, path, method in requests_for(app, world):
        response = send(person.web, method, path, token)
        if role not in EXPECTED[endpoint]:
            assert response.status_code == 403, (endpoint, response.status_code)
        elif endpoint not in MFA_PAGES:
            assert response.status_code == 302, (endpoint, response.status_code)
            assert response.headers["Location"].startswith("/admin/mfa/enrol"), endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_with_mfa_opens_its_screens(app, world, console, role):
    """Right role with MFA → 200 for pages; POST-only rules answer a GET with 405."""
    person = console(roles=(role,), email=f"{role}@moc.go.th")
    rules = {r.endpoint: r.rule.replace("int:", "") for r in admin_rules(app)}
    for endpoint, path, method in requests_for(app, world):
        if role not in EXPECTED[endpoint]:
            continue
        response = person.web.get(path)
        expected = 200 if method == "GET" else 405
        if method == "GET" and ("<application_id>" in rules[endpoint] or "<document_id>" in rules[endpoint]):
            expected = 404  # the guard let it through; there is no such application
        if endpoint in MFA_PAGES:  # already enrolled: enrol sends to verify, verify shows the form
            expected = 302 if endpoint == "admin.mfa_enrol" else 200
        assert response.status_code == expected, (endpoint, response.status_code)


def snapshot(app):
    """Everything a console action could change."""
    from idp.accounts.models import User
    from idp.audit import AuditEvent
    from idp.oidc.models import Client

    with app.app_context():
        users = [tuple(r) for r in db.session.execute(sa.select(User.__table__).order_by(User.id))]
        clients = [tuple(r) for r in db.session.execute(sa.select(Client.__table__).order_by(Client.id))]
        events = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
        return users, clients, events


def test_every_admin_form_refuses_a_post_without_csrf_token(app, world, console):
    admin = console()
    before = snapshot(app)
    posted = 0
    for rule in admin_rules(app):
        if "POST" not in rule.methods:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", world[name]).replace(f"<{name}>", world[name])
        response = admin.web.post(path, data={"reason": "no token", "code": "123456",
                                              "name": "Changed", "query": "target"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        posted += 1
    assert posted >= 15
    assert snapshot(app) == before


def test_reviewer_sees_only_its_page(console):
    reviewer = console(roles=("reviewer",), email="reviewer@moc.go.th")
    home = reviewer.text("/admin/")
    assert "review queue" in home.lower()
    for link in ("/admin/clients", "/admin/accounts", "/admin/audit", "/admin/keys"):
        assert f'href="{link}"' not in home
        assert reviewer.web.get(link).status_code == 403


def test_client_manager_sees_clients_only(console):
    manager = console(roles=("client_manager",), email="cm@moc.go.th")
    home = manager.text("/admin/")
    assert 'href="/admin/clients"' in home and 'href="/admin/accounts"' not in home
    assert manager.web.get("/admin/clients").status_code == 200
    assert manager.web.get("/admin/audit").status_code == 403


def test_the_site_header_links_to_the_console_only_for_role_holders(console):
    admin = console(enrol=False)
    member = console(roles=(), email="member@example.com", enrol=False)
    assert 'href="/admin/"' in admin.text("/account")
    assert 'href="/admin/"' not in member.text("/account")
