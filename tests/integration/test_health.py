"""/healthz and /readyz: answered before the app, no cookie, no rate-limit slot, no
configuration in the answer; /readyz is 503 when the database or Redis cannot be reached."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support.queries import counting_statements


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_liveness_answers_without_touching_the_database(app, web):
    with counting_statements(app) as statements:
        response = web.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "alive"}
    assert statements.count == 0, statements
    assert "Set-Cookie" not in response.headers


def test_readiness_reports_each_check_and_sets_no_cookie(web):
    response = web.get("/readyz")
    assert response.status_code == 200, response.data
    document = response.json
    assert document["status"] == "ready"
    assert set(document["checks"]) == {"database", "signing_key"}
    for check in document["checks"].values():
        assert check["state"] == "ok" and check["latency_ms"] >= 0
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readiness_checks_redis_when_configured(build):
    import os

    redis_url = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    response = build({"REDIS_URL": redis_url}).test_client().get("/readyz")
    assert response.status_code == 200, response.data
    assert response.json["checks"]["redis"]["state"] == "ok"
    assert "6379" not in response.get_data(as_text=True)


def test_readiness_is_503_when_the_database_cannot_be_reached(build):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp"
    response = build({"DATABASE_URL": url}, empty=False).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["state"] == "failing"
    assert response.json["checks"]["signing_key"]["state"] == "ok"
    _leaks_nothing(response, url)


def test_readiness_is_503_when_redis_cannot_be_reached(build):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    response = build({"REDIS_URL": url}).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["state"] == "failing"
    assert response.json["checks"]["database"]["state"] == "ok"
    _leaks_nothing(response, url)


def test_readiness_is_503_without_an_active_signing_key(build, tmp_path):
    from idp.oidc.keys import KeyStore
    from idp.oidc.signing import KEYS

    app = build({})
    app.extensions[KEYS] = KeyStore(tmp_path)  # an empty keys folder
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["signing_key"]["state"] == "failing"


def test_health_endpoints_use_no_rate_limit_slot(build):
    app = build({"RATELIMIT_DEFAULT": "2 per minute"})
    web = app.test_client()
    answers = [web.get(path).status_code for path in ["/healthz", "/readyz"] * 3]
    assert answers == [200] * 6


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_head_answers_without_a_body(web, path):
    response = web.head(path)
    assert response.status_code == 200 and response.data == b""


def _leaks_nothing(response, url: str) -> None:
    text = response.get_data(as_text=True)
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert "127.0.0.1" not in text and port not in text and "postgres" not in text.lower()
    assert set(json.loads(text)) == {"status", "checks"}
