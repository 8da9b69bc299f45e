"""Behind the reverse proxy: per-IP limits, audit rows and request ids follow the real client
when ``[PROXY]`` names the proxy, and a client's own ``X-Forwarded-*`` headers change nothing
when it does not."""

from __future__ import annotations

import pytest

from tests.support.flows import PASSWORD, csrf_token

PROXY_ADDR, CLIENT_X, CLIENT_Y = "10.0.0.2", "203.0.113.7", "198.51.100.9"


def through(web, client_ip, method, path, **kwargs):
    """A request as the proxy sends it: from the proxy's address, naming the client."""
    kwargs.setdefault("environ_base", {"REMOTE_ADDR": PROXY_ADDR})
    # Over https Flask-WTF also wants a same-origin Referer, as a browser sends it.
    kwargs.setdefault("headers", {}).update({"X-Forwarded-For": client_ip,
                                             "X-Forwarded-Proto": "https",
                                             "Referer": "https://localhost/login"})
    return getattr(web, method)(path, **kwargs)


def sign_in(web, client_ip, email, password, **kwargs):
    page = through(web, client_ip, "get", "/login", **kwargs).get_data(as_text=True)
    return through(web, client_ip, "post", "/login", data={
        "csrf_token": csrf_token(page), "email": email, "password": password}, **kwargs)


def audit_ips(app, tag):
    from idp.audit import events

    with app.app_context():
        return [event.ip for event in events(tag)]


def guess_passwords(app, ip, times=30):
    web = app.test_client()
    for n in range(times):
        assert sign_in(web, ip, f"guess{n}@example.com", "wrong password").status_code == 401
    return sign_in(web, ip, "guess@example.com", "wrong password")


def test_behind_a_trusted_proxy_one_client_guessing_does_not_lock_out_another(build):
    app = build({"PROXY": {"TRUSTED_HOPS": 1}})
    _member(app)
    assert guess_passwords(app, CLIENT_X).status_code == 429  # X has spent its own budget
    response = sign_in(app.test_client(), CLIENT_Y, "somchai@example.com", PASSWORD)
    assert response.status_code == 302
    assert audit_ips(app, "account:login:throttled") == [CLIENT_X]
    assert audit_ips(app, "account:login:success") == [CLIENT_Y]


def test_without_the_setting_a_spoofed_forwarded_for_changes_nothing(build):
    app = build({})
    _member(app)
    assert guess_passwords(app, CLIENT_X).status_code == 429
    # Every request came from the proxy's address: without [PROXY] that is the client.
    response = sign_in(app.test_client(), CLIENT_Y, "somchai@example.com", PASSWORD)
    assert response.status_code == 429
    assert audit_ips(app, "account:login:throttled") == [PROXY_ADDR, PROXY_ADDR]


def test_headers_from_outside_the_trusted_networks_are_ignored(build):
    app = build({"PROXY": {"TRUSTED_HOPS": 1, "TRUSTED_NETWORKS": ["10.0.0.0/8"]}})
    _member(app)
    outsider = {"REMOTE_ADDR": "192.0.2.50"}
    sign_in(app.test_client(), CLIENT_X, "somchai@example.com", PASSWORD, environ_base=outsider)
    sign_in(app.test_client(), CLIENT_Y, "somchai@example.com", PASSWORD)
    assert audit_ips(app, "account:login:success") == ["192.0.2.50", CLIENT_Y]


def test_only_the_last_hop_is_believed(build):
    """A client's own X-Forwarded-For value, which the proxy appends to, is not the client."""
    app = build({"PROXY": {"TRUSTED_HOPS": 1}})
    _member(app)
    sign_in(app.test_client(), f"1.2.3.4, {CLIENT_X}", "somchai@example.com", PASSWORD)
    assert audit_ips(app, "account:login:success") == [CLIENT_X]


# A page, and the two kinds of answer given before the app (discovery, userinfo).
@pytest.mark.parametrize("path", ["/login", "/.well-known/openid-configuration", "/userinfo"])
def test_a_request_id_is_taken_only_from_a_trusted_proxy(build, path):
    app = build({"PROXY": {"TRUSTED_HOPS": 1, "TRUSTED_NETWORKS": ["10.0.0.0/8"]}})
    web = app.test_client()
    proxied = through(web, CLIENT_X, "get", path, headers={"X-Request-ID": "nginx-abc12345"})
    assert proxied.headers["X-Request-ID"] == "nginx-abc12345"
    direct = web.get(path, headers={"X-Request-ID": "chosen-by-client"},
                     environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert direct.headers["X-Request-ID"] not in ("chosen-by-client", "")
    malformed = through(web, CLIENT_X, "get", path, headers={"X-Request-ID": "bad id <script>"})
    assert malformed.headers["X-Request-ID"] != "bad id <script>"


def _member(app):
    from idp.accounts.service import create_user
    from idp.db import db

    with app.app_context():
        create_user("somchai@example.com", PASSWORD, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
