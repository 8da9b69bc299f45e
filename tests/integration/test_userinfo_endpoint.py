"""UserInfo answered before the app (idp/oidc/userinfo.py): the same answers as any endpoint
(headers, request id; its access line is checked in test_logs.py), and what it cannot answer
goes on to the app: HEAD, and a call whose database is down, which gets the app's 503."""

from __future__ import annotations

import logging

import pytest
from werkzeug.test import EnvironBuilder

from tests.support.faults import closed_port
from tests.support.responses import assert_server_to_server_headers


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_answer_carries_the_headers_every_response_has(flow):
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.get("/userinfo", headers=bearer(access))
    assert response.status_code == 200
    assert_server_to_server_headers(response)


def test_a_token_in_both_the_header_and_the_body_is_refused(flow):
    """RFC 6750 2: a client "MUST NOT use more than one method to transmit the token"."""
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.post("/userinfo", headers=bearer(access), data={"access_token": access})
    assert response.status_code == 401 and response.json["error"] == "invalid_request"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="userinfo"'


def test_a_bad_token_is_named_in_www_authenticate(web):
    response = web.get("/userinfo", headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_head_goes_to_the_app_and_answers_like_get_without_a_body(flow):
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.head("/userinfo", headers=bearer(access))
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Cache-Control"] == "no-store"


def test_a_database_that_is_down_gets_the_apps_503(build):
    app = build({"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp"},
                empty=False)
    web = app.test_client()
    for send in (lambda: web.get("/userinfo", headers=bearer("some-token")),
                 lambda: web.post("/userinfo", data={"access_token": "some-token"})):
        response = send()
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.json["error"] == "temporarily_unavailable"


def call(app, environ) -> tuple[str, bytes]:
    """One request straight through the WSGI stack: its status line and body."""
    statuses = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers, exc=None: statuses.append(status)))
    return statuses[0], body


def form_post(body: bytes) -> dict:
    return EnvironBuilder(path="/userinfo", method="POST", data=body,
                          content_type="application/x-www-form-urlencoded").get_environ()


def test_a_token_in_a_chunked_body_is_read_by_the_app(app, flow):
    """No Content-Length (a chunked body, as a server hands it on: a terminated stream): the
    middleware leaves the body to the app, which reads it."""
    access = flow.tokens(flow.secret)["access_token"]
    environ = form_post(f"access_token={access}".encode())
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    status, body = call(app, environ)
    assert status.startswith("200") and b'"sub"' in body


def test_a_body_over_the_forms_limit_goes_to_the_app(flow):
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.post("/userinfo", data={"access_token": access, "padding": "x" * 20_000})
    assert response.status_code == 200 and response.json["sub"]


def test_a_malformed_content_length_gets_an_answer_not_a_crash(app):
    environ = form_post(b"access_token=x")
    environ["CONTENT_LENGTH"] = "twelve"
    status, body = call(app, environ)
    assert status.startswith("401") and b"invalid_request" in body


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "Basic dXNlcjpwYXNz", "bearer-ish abc"])
def test_an_authorization_header_without_a_bearer_token_asks_for_one(web, header):
    response = web.get("/userinfo", headers={"Authorization": header})
    assert response.status_code == 401 and response.json["error"] == "invalid_request"


def test_a_refresh_token_is_no_access_token_and_costs_one_lookup(app, flow):
    from tests.support.queries import counting_statements

    refresh = flow.tokens(flow.secret)["refresh_token"]
    with counting_statements(app) as statements:
        response = flow.web.get("/userinfo", headers=bearer(refresh))
    assert response.status_code == 401 and response.json["error"] == "invalid_token"
    assert len(statements) == 1


def test_a_failure_of_the_answer_before_the_app_is_logged_and_the_app_answers(flow, monkeypatch,
                                                                              caplog):
    from idp.oidc import userinfo

    access = flow.tokens(flow.secret)["access_token"]
    real, calls = userinfo.user_claims, []

    def broken_once(user, scope):
        calls.append(scope)
        if len(calls) == 1:
            raise TypeError("a bug in the fast path")
        return real(user, scope)

    monkeypatch.setattr(userinfo, "user_claims", broken_once)
    with caplog.at_level(logging.ERROR, logger="idp.oidc.userinfo"):
        response = flow.web.get("/userinfo", headers=bearer(access))
    assert response.status_code == 200 and response.json["sub"] and len(calls) == 2
    assert any("a bug in the fast path" in (r.exc_text or "") or r.exc_info for r in caplog.records)
