"""Discovery and the JWKS: prepared bytes with a strong ETag, cacheable, and no per-request
work (no session cookie, no database)."""

from __future__ import annotations

import json

import pytest

from tests.support.queries import counting_statements

DOCUMENTS = ["/.well-known/openid-configuration", "/jwks.json"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_public_document_is_cacheable_and_names_its_version(web, path):
    response = web.get(path)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert web.get(path).headers["ETag"] == etag


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_known_etag_gets_304_without_a_body(web, path):
    etag = web.get(path).headers["ETag"]
    response = web.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag
    assert web.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_public_document_touches_no_database_and_sets_no_cookie(app, web, path):
    web.get(path)  # the first request may prepare the document
    with counting_statements(app) as statements:
        response = web.get(path)
        head = web.head(path)
    assert response.status_code == 200 and head.status_code == 200 and head.data == b""
    assert statements.count == 0, statements
    assert "Set-Cookie" not in response.headers and "Set-Cookie" not in head.headers
    assert "Vary" not in response.headers  # nothing in it depends on a cookie or a language


def test_the_metadata_is_the_document_it_was_before(app, web):
    from idp.oidc.discovery import metadata

    with app.app_context():
        assert json.loads(web.get(DOCUMENTS[0]).data) == metadata()


def test_a_rotation_changes_the_jwks_and_its_etag(app, web, tmp_path):
    from idp.oidc.keys import KeyStore
    from idp.oidc.signing import KEYS

    app.extensions[KEYS] = KeyStore(tmp_path)  # not the keys the other tests share
    app.test_cli_runner().invoke(args=["keys", "rotate", "--now"])
    before = web.get("/jwks.json")
    app.test_cli_runner().invoke(args=["keys", "rotate"])
    after = web.get("/jwks.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert len(json.loads(after.data)["keys"]) == len(json.loads(before.data)["keys"]) + 2


def test_other_methods_still_reach_the_app(web):
    assert web.post("/jwks.json").status_code == 405
