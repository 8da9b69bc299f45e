"""OAuth clients in the console and in `moc-idp clients`: the same services, validated alike."""

from __future__ import annotations

import html
import json
import re

import admin_support

from idp.db import db

console = admin_support.console  # the fixture, shared by the console tests

FORM = {
    "name": "e-Service", "description": "Licences online", "logo_uri": "https://eservice.moc.go.th/logo.png",
    "client_uri": "https://eservice.moc.go.th/", "redirect_uris": "https://eservice.moc.go.th/cb\n",
    "post_logout_redirect_uris": "https://eservice.moc.go.th/",
    "backchannel_logout_uri": "https://eservice.moc.go.th/bc",
    "token_endpoint_auth_method": "client_secret_basic",
    "scopes": ["openid", "profile", "email", "offline_access"],
    "grant_types": ["authorization_code", "refresh_token"], "staff_only": "y",
    "access_token_lifetime": "300",
}


def stored(app, client_id):
    from idp.oidc.clients import find_client

    with app.app_context():
        client = find_client(client_id)
        if client is not None:
            db.session.expunge(client)
        return client


def register(admin, **changes):
    return admin.post("/admin/clients/new", csrf_from="/admin/clients/new", **{**FORM, **changes})


def created_ids(html):
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
    secret = re.search(r'<code id="client-secret" class="secret">([^<]+)</code>', html).group(1)
    return client_id, secret


def test_registering_shows_the_secret_once_and_stores_only_its_digest(app, console):
    admin = console()
    response = register(admin)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    client_id, secret = created_ids(html)
    assert "/.well-known/openid-configuration" in html
    client = stored(app, client_id)
    assert client.client_secret_hash != secret and secret not in client.client_secret_hash
    assert client.check_client_secret(secret)
    assert (client.description, client.logo_uri, client.staff_only, client.access_token_lifetime) == (
        "Licences online", "https://eservice.moc.go.th/logo.png", True, 300)
    for page in ("/admin/clients", f"/admin/clients/{client_id}", f"/admin/clients/{client_id}/edit"):
        assert secret not in admin.text(page), page


def test_the_client_page_gives_the_discovery_url_and_a_configuration_snippet(console, make_client):
    admin = console()
    client_id, _ = make_client()
    html = admin.text(f"/admin/clients/{client_id}")
    assert '<code id="discovery-url">http://localhost/.well-known/openid-configuration</code>' in html
    snippet = json.loads(re.search(r'<pre class="snippet" id="rp-config">(.*?)</pre>', html, re.S).group(1))
    assert snippet["client_id"] == client_id and snippet["issuer"] == "http://localhost"
    assert snippet["redirect_uris"] == ["https://rp.example/callback"]


def test_bad_redirect_uris_are_refused_with_each_reason(app, console):
    admin = console()
    response = register(admin, redirect_uris="http://rp.example/cb\nhttps://rp.example/cb#x\n/relative")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "must use https" in text and "fragment" in text and "not an absolute URI" in text
    from idp.oidc.clients import list_clients

    with app.app_context():
        assert list_clients() == []


def test_loopback_may_use_http(console):
    admin = console()
    assert register(admin, redirect_uris="http://127.0.0.1:8080/cb").status_code == 200


def test_service_layer_validates_redirect_uris_as_at_runtime(app):
    from idp.oidc.clients import InvalidClientSettings, create_client

    with app.app_context():
        for uri, reason in (("https://rp.example/cb#frag", "fragment"), ("rp.example/cb", "absolute"),
                            ("http://rp.example/cb", "https"), ("https://rp.example/cb", None)):
            try:
                create_client("RP", [uri])
                assert reason is None, uri
            except InvalidClientSettings as error:
                assert reason and reason in str(error), (uri, str(error))


def test_editing_changes_the_settings_and_is_audited(app, console, make_client):
    from idp.audit import events

    admin = console()
    client_id, secret = make_client()
    page = admin.text(f"/admin/clients/{client_id}/edit")
    assert "https://rp.example/callback" in page
    response = admin.post(f"/admin/clients/{client_id}/edit", csrf_from=f"/admin/clients/{client_id}/edit",
                          **{**FORM, "name": "Renamed", "redirect_uris": "https://rp.example/new"})
    assert response.status_code == 302
    client = stored(app, client_id)
    assert client.name == "Renamed" and client.redirect_uris == ["https://rp.example/new"]
    assert client.check_client_secret(secret)  # editing does not change the secret
    with app.app_context():
        [event] = events("admin:client:updated")
        assert "redirect_uris" in event.details["changed"] and event.actor_id is not None


def test_rotating_the_secret_shows_the_new_one_once(app, console, make_client):
    admin = console()
    client_id, old = make_client()
    response = admin.post(f"/admin/clients/{client_id}/secret")
    _, new = created_ids(response.get_data(as_text=True))
    client = stored(app, client_id)
    assert client.check_client_secret(new) and not client.check_client_secret(old)


def test_disable_and_enable(app, console, flow):
    admin = console()
    tokens = flow.tokens(flow.secret)
    admin.post(f"/admin/clients/{flow.client_id}/disable")
    assert flow.authorize().status_code == 400
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert flow.web.get("/userinfo", headers=bearer).status_code == 401
    admin.post(f"/admin/clients/{flow.client_id}/enable")
    assert flow.authorize().status_code == 302


def test_delete_needs_the_name_typed_and_removes_tokens_and_consents(app, console, flow):
    from idp.oidc.models import Consent, Token

    admin = console()
    flow.tokens(flow.secret)
    path = f"/admin/clients/{flow.client_id}/delete"
    assert admin.post(path, csrf_from=path, confirm_name="wrong").status_code == 400
    assert stored(app, flow.client_id) is not None
    assert admin.post(path, csrf_from=path, confirm_name="Test RP").status_code == 302
    with app.app_context():
        from idp.oidc.clients import find_client

        assert find_client(flow.client_id) is None
        assert db.session.execute(db.select(Token)).first() is None
        assert db.session.execute(db.select(Consent)).first() is None


# --- the command line ----------------------------------------------------------------------

def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_cli_create_takes_every_new_field(app):
    result = run(app, "clients", "create", "--name", "Svc", "--description", "Batch jobs",
                 "--client-uri", "https://svc.moc.go.th/", "--logo-uri", "https://svc.moc.go.th/l.png",
                 "--grant-type", "client_credentials", "--scope", "moc", "--access-token-lifetime",
                 "120", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    client = stored(app, created["client_id"])
    assert client.grant_types == ["client_credentials"] and client.redirect_uris == []
    assert (client.description, client.client_uri, client.access_token_lifetime) == (
        "Batch jobs", "https://svc.moc.go.th/", 120)
    assert client.check_client_secret(created["client_secret"])


def test_cli_update_changes_only_what_is_given(app, make_client):
    client_id, _ = make_client(trusted=False)
    result = run(app, "clients", "update", client_id, "--trusted", "--redirect-uri",
                 "https://rp.example/a", "--redirect-uri", "https://rp.example/b")
    assert result.exit_code == 0, result.output
    client = stored(app, client_id)
    assert client.trusted and client.redirect_uris == ["https://rp.example/a", "https://rp.example/b"]
    assert client.post_logout_redirect_uris == ["https://rp.example/"]
    bad = run(app, "clients", "update", client_id, "--redirect-uri", "http://rp.example/x")
    assert bad.exit_code == 2 and "https" in bad.output


def test_cli_update_to_confidential_prints_the_first_secret(app, make_client):
    client_id, secret = make_client(auth_method="none")
    assert secret is None
    result = run(app, "clients", "update", client_id, "--auth-method", "client_secret_post", "--json")
    new_secret = json.loads(result.output)["client_secret"]
    assert stored(app, client_id).check_client_secret(new_secret)


def test_cli_enable_delete_and_show(app, make_client):
    client_id, secret = make_client()
    assert run(app, "clients", "disable", client_id).exit_code == 0
    assert run(app, "clients", "enable", client_id).exit_code == 0
    assert stored(app, client_id).disabled_at is None
    shown = run(app, "clients", "show", client_id)
    assert json.loads(shown.output)["client_id"] == client_id and secret not in shown.output
    assert run(app, "clients", "delete", client_id, input="n\n").exit_code == 1
    assert run(app, "clients", "delete", client_id, "--yes").exit_code == 0
    assert stored(app, client_id) is None


def test_lifetimes_cannot_exceed_the_servers(app):
    result = run(app, "clients", "create", "--name", "Long", "--redirect-uri", "https://rp.example/cb",
                 "--access-token-lifetime", "100000")
    assert result.exit_code == 2 and "access token lifetime" in result.output


BAD_URIS = {
    "https://*.moc.go.th/cb": "wildcard",
    "https://eservice.moc.go.th/*": "wildcard",
    "https://eservice.moc.go.th@evil.test/cb": "user name or password",
    "https://a:b@eservice.moc.go.th/cb": "user name or password",
    "https://eservice.moc.go.th/cb#": "fragment",
    "http://eservice.moc.go.th/cb": "must use https",
    "myapp://callback": "must use https",
    "https://eservice.moc.go.th/c b": "spaces or control characters",
}


def test_each_unsafe_redirect_uri_is_refused_and_the_form_keeps_what_was_typed(app, console):
    admin = console()
    typed = "\n".join(BAD_URIS)
    response = register(admin, redirect_uris=typed, post_logout_redirect_uris="https://*.moc.go.th/",
                        backchannel_logout_uri="https://u@eservice.moc.go.th/bc")
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    for uri, reason in BAD_URIS.items():
        assert re.search(re.escape(repr(uri)) + r"[^<]*" + re.escape(reason), text), (uri, reason)
    assert "post-logout redirect URI 'https://*.moc.go.th/' must not contain a wildcard" in text
    assert "back-channel logout URI 'https://u@eservice.moc.go.th/bc' must not contain a user" in text
    assert typed in text and "https://u@eservice.moc.go.th/bc" in text  # nothing lost
    from idp.oidc.clients import list_clients

    with app.app_context():
        assert list_clients() == []


def test_at_most_20_redirect_uris_per_client(app, console):
    admin = console()
    many = [f"https://eservice.moc.go.th/cb/{n}" for n in range(21)]
    refused = register(admin, redirect_uris="\n".join(many), post_logout_redirect_uris="\n".join(many))
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "At most 20 redirect URIs may be registered" in text
    assert "At most 20 post-logout redirect URIs may be registered" in text
    assert register(admin, redirect_uris="\n".join(many[:20])).status_code == 200


def test_the_redirect_uri_limit_is_a_setting(app, console):
    app.config["OIDC"]["MAX_REDIRECT_URIS"] = 2
    admin = console()
    three = "\n".join(f"https://eservice.moc.go.th/cb/{n}" for n in range(3))
    assert "At most 2 redirect URIs" in register(admin, redirect_uris=three).get_data(as_text=True)


def test_editing_a_client_is_validated_alike(app, console, make_client):
    client_id, _ = make_client()
    admin = console()
    path = f"/admin/clients/{client_id}/edit"
    response = admin.post(path, csrf_from=path, **{**FORM, "redirect_uris": "https://*.rp.example/cb"})
    assert response.status_code == 400 and "wildcard" in response.get_data(as_text=True)
    assert stored(app, client_id).redirect_uris == ["https://rp.example/callback"]


def test_the_thai_console_explains_the_problem_in_thai(app, console):
    admin = console()
    admin.web.get("/lang/th")
    text = register(admin, redirect_uris="https://*.moc.go.th/cb").get_data(as_text=True)
    assert "https://*.moc.go.th/cb" in text and "wildcard" not in text
