"""The token endpoint answered before the app (idp/oidc/token_endpoint.py, ``TokenEndpoint``):
the same answers as the Flask view, with the headers every response has; the audit log, the
metrics and the access line still know who asked; what it does not read goes on to the app; a
failure before the commit is answered by the app from the start, one after it never twice."""

from __future__ import annotations

import json
import logging

import pytest

from idp.db import db
from tests.support.responses import assert_server_to_server_headers

CALLER = {"REMOTE_ADDR": "203.0.113.7"}
AGENT = {"User-Agent": "rp-backend/2.1"}


def refresh(flow, refresh_token, **headers):
    return flow.web.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         auth=(flow.client_id, flow.secret), headers=headers)


def test_a_code_and_a_refresh_are_answered_before_the_app(flow, app_requests):
    tokens = flow.tokens(flow.secret)
    assert tokens["id_token"] and tokens["refresh_token"]
    response = refresh(flow, tokens["refresh_token"])
    assert response.status_code == 200 and response.json["access_token"]
    assert "/token" not in app_requests and "/authorize" in app_requests


def test_the_answer_carries_the_headers_every_response_has(flow):
    response = flow.exchange(flow.code(), flow.secret)
    assert response.status_code == 200
    assert_server_to_server_headers(response)


def test_an_error_is_authlibs_answer_with_the_same_headers(flow, app_requests):
    response = flow.exchange("not-a-code", flow.secret)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
    assert_server_to_server_headers(response)
    assert "/token" not in app_requests


def test_a_reused_code_is_audited_with_the_callers_address_and_agent(app, flow):
    from idp import audit

    code = flow.code()
    first = flow.web.post("/token", data=_code_form(flow, code), auth=(flow.client_id, flow.secret),
                          environ_base=CALLER, headers=AGENT)
    again = flow.web.post("/token", data=_code_form(flow, code), auth=(flow.client_id, flow.secret),
                          environ_base=CALLER, headers=AGENT)
    assert first.status_code == 200 and again.json["error"] == "invalid_grant"
    with app.app_context():
        [reused] = audit.events("oidc:code:reused")
        [revoked] = audit.events("oidc:token:revoked")
        assert (reused.ip, reused.user_agent) == ("203.0.113.7", "rp-backend/2.1")
        assert revoked.ip == "203.0.113.7"
    assert refresh(flow, first.json["refresh_token"]).json["error"] == "invalid_grant"


def _code_form(flow, code) -> dict:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier}


def test_the_token_metric_names_the_grant_type(flow):
    from idp.metrics import TOKENS

    def issued(grant_type):
        return TOKENS.labels(grant_type, flow.client_id)._value.get()

    before = issued("refresh_token")
    refresh(flow, flow.tokens(flow.secret)["refresh_token"])
    assert issued("refresh_token") == before + 1


def test_the_access_line_names_the_endpoint_client_and_request_id(build, capsys):
    from tests.integration.test_logs import access_lines, member_and_client
    from tests.support.flows import Flow

    app = build({"LOGGING": {"FORMAT": "json"}})
    _, client_id, secret = member_and_client(app)
    flow = Flow(app.test_client(), client_id)
    flow.sign_in(password="a good long passphrase 42")
    code = flow.code()
    capsys.readouterr()
    response = flow.exchange(code, secret)
    [line] = access_lines(capsys)
    assert line["endpoint"] == "oidc.token" and line["status"] == 200
    assert line["client_id"] == client_id
    assert line["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("send", [
    pytest.param(lambda flow, form: flow.web.post("/token", json=form, auth=(flow.client_id, flow.secret)),
                 id="a JSON body"),
    pytest.param(lambda flow, form: flow.web.post("/token", data={**form, "padding": "x" * 20_000},
                                                  auth=(flow.client_id, flow.secret)),
                 id="a body over the form limit"),
])
def test_what_it_does_not_read_goes_to_the_app(flow, app_requests, send):
    form = _code_form(flow, flow.code())
    response = send(flow, form)
    assert "/token" in app_requests
    assert response.headers["Cache-Control"] == "no-store"
    assert response.status_code in (200, 400)  # the app's own answer, whatever it is
    if response.status_code == 200:
        assert response.json["id_token"]


def test_a_chunked_body_is_read_by_the_app(app, flow, app_requests):
    from werkzeug.test import EnvironBuilder

    from tests.integration.test_userinfo_endpoint import call

    body = "&".join(f"{k}={v}" for k, v in _code_form(flow, flow.code()).items()).encode()
    environ = EnvironBuilder(path="/token", method="POST", data=body,
                             content_type="application/x-www-form-urlencoded",
                             auth=(flow.client_id, flow.secret)).get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    status, answer = call(app, environ)
    assert status.startswith("200") and json.loads(answer)["id_token"]
    assert "/token" in app_requests


def test_a_failure_before_the_commit_is_answered_by_the_app_from_the_start(app, flow, monkeypatch,
                                                                           caplog, app_requests):
    """The failed attempt's work is rolled back: the app redeems the code as if for the first
    time (no reuse detected, one token set)."""
    from idp import audit
    from idp.oidc import tokens

    real, calls = tokens.id_token, []

    def broken_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise TypeError("a bug before the commit")
        return real(*args, **kwargs)

    monkeypatch.setattr(tokens, "id_token", broken_once)
    with caplog.at_level(logging.ERROR, logger="idp.oidc"):
        response = flow.exchange(flow.code(), flow.secret)
    assert response.status_code == 200 and response.json["id_token"] and len(calls) == 2
    assert "/token" in app_requests
    assert any("a bug before the commit" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    with app.app_context():
        assert audit.events("oidc:code:reused") == []
        assert db.session.execute(db.text("SELECT count(*) FROM oauth_tokens")).scalar_one() == 1


def test_a_failure_after_the_commit_is_not_answered_twice(app, flow, monkeypatch, app_requests,
                                                          caplog):
    """The tokens are stored: the app must not run the grant again (it would see a reused code
    and revoke them). The client gets a server error and starts again; the log line names the
    request id the answer carries."""
    from idp import audit
    from idp.oidc import token_endpoint

    def broken(client_id, response):
        raise RuntimeError("the budget's store failed after the commit")

    monkeypatch.setattr(token_endpoint, "count_request", broken)
    code = flow.code()
    with caplog.at_level(logging.ERROR, logger="idp.oidc"):
        response = flow.exchange(code, flow.secret)
    assert response.status_code == 500 and response.json["error"] == "server_error"
    assert response.headers["Cache-Control"] == "no-store"
    [logged] = [r for r in caplog.records if "after its commit" in r.getMessage()]
    assert logged.request_id == response.headers["X-Request-ID"]
    assert "/token" not in app_requests
    with app.app_context():
        assert audit.events("oidc:code:reused") == []
        assert db.session.execute(db.text("SELECT count(*) FROM oauth_tokens")).scalar_one() == 1


def test_the_answer_is_one_body_the_server_writes_at_once(app, flow):
    """A list of one bytes object: the server sends it without calling back into Python."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/token", method="POST", data=_code_form(flow, flow.code()),
                             auth=(flow.client_id, flow.secret)).get_environ()
    statuses = []
    body = app.wsgi_app(environ, lambda status, headers, exc=None: statuses.append(status))
    assert statuses == ["200 OK"] and isinstance(body, list) and len(body) == 1
    assert json.loads(body[0])["id_token"]


@pytest.mark.parametrize("length", ["twelve", "-5", ""])
def test_a_malformed_content_length_reads_as_an_empty_form(app, flow, length):
    """As Werkzeug reads it in the app: no body, so no grant type; the code is not redeemed."""
    from werkzeug.test import EnvironBuilder

    from tests.integration.test_userinfo_endpoint import call

    code = flow.code()
    environ = EnvironBuilder(path="/token", method="POST", data=_code_form(flow, code),
                             auth=(flow.client_id, flow.secret)).get_environ()
    environ["CONTENT_LENGTH"] = length
    status, answer = call(app, environ)
    assert status.startswith("400") and json.loads(answer)["error"] == "unsupported_grant_type"
    assert flow.exchange(code, flow.secret).status_code == 200  # still unused
