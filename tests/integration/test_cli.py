"""The admin command line (`moc-idp`), through Click's runner on the test app."""

from __future__ import annotations

import json


def run(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def test_clients_create_prints_the_secret_once_and_stores_only_its_digest(app):
    result = run(app, "clients", "create", "--name", "Portal", "--redirect-uri",
                 "https://portal.moc.go.th/callback", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    from idp.oidc.clients import find_client

    with app.app_context():
        client = find_client(created["client_id"])
        assert client.client_secret_hash != created["client_secret"]
        assert client.check_client_secret(created["client_secret"])
    listed = json.loads(run(app, "clients", "list", "--json").output)
    assert created["client_secret"] not in json.dumps(listed)
    assert [c["client_id"] for c in listed] == [created["client_id"]]


def test_clients_create_refuses_bad_redirect_uris_listing_each_problem(app):
    result = run(app, "clients", "create", "--name", "Bad", "--redirect-uri", "http://rp.example/cb",
                 "--redirect-uri", "https://rp.example/cb#frag", "--redirect-uri", "/relative")
    assert result.exit_code == 2
    assert "https" in result.output and "fragment" in result.output and "absolute" in result.output


def test_public_client_has_no_secret(app):
    created = json.loads(run(app, "clients", "create", "--name", "SPA", "--redirect-uri",
                             "http://127.0.0.1:8080/cb", "--auth-method", "none", "--json").output)
    assert created["client_secret"] is None


def test_rotate_secret_replaces_the_old_one(app):
    created = json.loads(run(app, "clients", "create", "--name", "P", "--redirect-uri",
                             "https://p.example/cb", "--json").output)
    rotated = json.loads(run(app, "clients", "rotate-secret", created["client_id"], "--json").output)
    from idp.oidc.clients import find_client

    with app.app_context():
        client = find_client(created["client_id"])
        assert not client.check_client_secret(created["client_secret"])
        assert client.check_client_secret(rotated["client_secret"])


def test_disabled_client_can_no_longer_start_a_sign_in(app, flow):
    tokens = flow.tokens(flow.secret)
    assert run(app, "clients", "disable", flow.client_id).exit_code == 0
    assert flow.authorize().status_code == 400
    assert flow.web.get("/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401


def test_users_create_reads_the_password_from_stdin(app, web):
    from tests.support.flows import csrf_token

    result = run(app, "users", "create", "--email", "admin@moc.go.th", "--password-stdin",
                 "--admin", "--json", input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sub"]
    page = web.get("/login")
    response = web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                        "email": "admin@moc.go.th",
                                        "password": "a long enough password"})
    assert response.status_code == 302


def test_users_create_refuses_a_duplicate_email(app):
    run(app, "users", "create", "--email", "a@example.com")
    result = run(app, "users", "create", "--email", "A@Example.com")
    assert result.exit_code == 2 and "already exists" in result.output


def test_keys_rotate_publishes_a_next_key(app, tmp_path):
    from idp.oidc.keys import KeyStore
    from idp.oidc.signing import KEYS

    app.extensions[KEYS] = KeyStore(tmp_path)  # not the keys the other tests share
    run(app, "keys", "rotate", "--alg", "RS256", "--now")
    result = run(app, "keys", "rotate", "--alg", "RS256")
    assert result.exit_code == 0, result.output
    states = [k["state"] for k in json.loads(run(app, "keys", "list", "--json").output)
              if k["alg"] == "RS256"]
    assert "next" in states and "active" in states


def test_clients_create_refuses_wildcards_userinfo_and_too_many_redirect_uris(app):
    many = [arg for n in range(21) for arg in ("--redirect-uri", f"https://rp.example/cb/{n}")]
    result = run(app, "clients", "create", "--name", "Bad", "--redirect-uri", "https://*.moc.go.th/cb",
                 "--redirect-uri", "https://rp.example@evil.test/cb", *many,
                 "--backchannel-logout-uri", "https://*.rp.example/bc")
    assert result.exit_code == 2
    assert "redirect URI 'https://*.moc.go.th/cb' must not contain a wildcard" in result.output
    assert "redirect URI 'https://rp.example@evil.test/cb' must not contain a user name" in result.output
    assert "back-channel logout URI 'https://*.rp.example/bc' must not contain a wildcard" in result.output
    assert "At most 20 redirect URIs may be registered for one client." in result.output
    from idp.oidc.clients import list_clients

    with app.app_context():
        assert list_clients() == []


def test_clients_update_refuses_a_wildcard_post_logout_redirect_uri(app):
    created = json.loads(run(app, "clients", "create", "--name", "P", "--redirect-uri",
                             "https://rp.example/cb", "--json").output)
    result = run(app, "clients", "update", created["client_id"],
                 "--post-logout-redirect-uri", "https://rp.example/*")
    assert result.exit_code == 2 and "wildcard" in result.output
