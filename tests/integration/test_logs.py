"""Logs: one JSON access line per request (request id, method, path without query values,
status, duration, client id and sub where known), application records in JSON too, and the
citizen ID masked in the new format."""

from __future__ import annotations

import json
import logging

import pytest

from idp.config import load_config
from idp.logs import log_format

CITIZEN_ID = "1101700203451"


@pytest.fixture
def json_app(build):
    return build({"LOGGING": {"FORMAT": "json"}})


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def access_lines(capsys) -> list[dict]:
    return [entry for entry in json_lines(capsys.readouterr().err) if entry["logger"] == "idp.access"]


def test_one_access_line_per_request_without_query_values(json_app, capsys):
    capsys.readouterr()
    response = json_app.test_client().get(f"/authorize?client_id=abc&state=secret-{CITIZEN_ID}")
    [line] = access_lines(capsys)
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["method"] == "GET" and line["status"] == response.status_code
    assert line["path"] == "/authorize?client_id=&state="
    assert line["endpoint"] == "oidc.authorize_endpoint" and line["client_id"] == "abc"
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert "secret" not in json.dumps(line)


def test_documents_served_before_the_app_are_logged_too(json_app, capsys):
    capsys.readouterr()
    web = json_app.test_client()
    responses = [web.get(path) for path in ("/healthz", "/.well-known/openid-configuration")]
    lines = access_lines(capsys)
    assert [line["endpoint"] for line in lines] == ["healthz", "oidc.openid_configuration"]
    assert [line["request_id"] for line in lines] == [r.headers["X-Request-ID"] for r in responses]


def member_and_client(app) -> tuple[str, str, str]:
    """A member and a relying party registered in ``app``: (sub, client id, secret)."""
    from idp.accounts.service import create_user
    from idp.db import db
    from idp.oidc.clients import create_client

    with app.app_context():
        sub = create_user("somchai@example.com", "a good long passphrase 42",
                          given_name_th="สมชาย", family_name_th="ใจดี").sub
        registered = create_client("RP", ["https://rp.example/callback"])
        db.session.commit()
        return sub, registered.client.client_id, registered.client_secret


def test_the_token_request_names_its_client_and_a_signed_in_page_its_account(build, capsys):
    from tests.support.flows import Flow

    app = build({"LOGGING": {"FORMAT": "json"}})
    web = app.test_client()
    sub, client_id, secret = member_and_client(app)
    flow = Flow(web, client_id)
    flow.sign_in(password="a good long passphrase 42")
    capsys.readouterr()
    flow.exchange(flow.code(), secret)
    token_line = next(line for line in access_lines(capsys) if line["endpoint"] == "oidc.token")
    assert token_line["client_id"] == client_id and token_line["path"] == "/token"
    web.get("/account")
    page_line = access_lines(capsys)[-1]
    assert page_line["sub"] == sub


def test_userinfo_answered_before_the_app_names_its_client_and_account(build, capsys):
    from tests.support.flows import Flow

    app = build({"LOGGING": {"FORMAT": "json"}})
    sub, client_id, secret = member_and_client(app)
    flow = Flow(app.test_client(), client_id)
    flow.sign_in(password="a good long passphrase 42")
    access = flow.tokens(secret)["access_token"]
    capsys.readouterr()
    flow.web.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    [line] = access_lines(capsys)
    assert line["endpoint"] == "oidc.userinfo" and line["status"] == 200
    assert line["client_id"] == client_id and line["sub"] == sub


def test_an_application_record_is_json_and_a_citizen_id_in_it_is_masked(json_app, capsys):
    capsys.readouterr()
    logging.getLogger("idp.verification").warning("checked %s against DOPA", CITIZEN_ID)
    [entry] = json_lines(capsys.readouterr().err)
    assert entry["logger"] == "idp.verification" and entry["level"] == "WARNING"
    assert CITIZEN_ID not in json.dumps(entry) and "*" * 13 in entry["message"]


def test_the_http_library_filter_still_masks_and_the_line_is_json(json_app, capsys):
    import idp.verification.dpis  # noqa: F401 (installs the urllib3 masking filter)

    logger = logging.getLogger("urllib3.connectionpool")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        capsys.readouterr()
        logger.debug('%s://%s:%s "%s %s %s" %s', "https", "dpis", 443, "GET",
                     f"/people/{CITIZEN_ID}", "HTTP/1.1", 200)
    finally:
        logger.setLevel(level)
    [entry] = json_lines(capsys.readouterr().err)
    assert CITIZEN_ID not in entry["message"] and "/people/*************" in entry["message"]


def test_an_exception_in_a_json_record_is_masked(json_app, capsys):
    capsys.readouterr()
    try:
        raise ValueError(f"no person {CITIZEN_ID}")
    except ValueError:
        logging.getLogger("idp").exception("lookup failed")
    [entry] = json_lines(capsys.readouterr().err)
    assert CITIZEN_ID not in entry["exception"] and "ValueError" in entry["exception"]


def test_development_logs_text_and_production_json():
    assert log_format(load_config({"MODE": "development"})) == "text"
    assert log_format(load_config({"MODE": "production"})) == "json"
    assert log_format(load_config({"MODE": "production", "LOGGING": {"FORMAT": "text"}})) == "text"
    with pytest.raises(ValueError):
        log_format(load_config({"LOGGING": {"FORMAT": "xml"}}))


def test_text_format_masks_too(build, capsys):
    build({"LOGGING": {"FORMAT": "text"}})
    capsys.readouterr()
    logging.getLogger("idp").warning("citizen %s", CITIZEN_ID)
    err = capsys.readouterr().err
    assert "citizen *************" in err and CITIZEN_ID not in err
