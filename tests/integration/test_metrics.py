"""/metrics: counters move with sign-ins, tokens and staff checks; only allowed networks or
the bearer token may read it, everyone else gets the 404 of any unknown path."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.flows import Flow, csrf_token

TOKEN = "scrape-token-" + "x" * 24
SOMCHAI = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
           "birthdate": "14/03/2528"}  # in AD (sample data)
FAR_AWAY = {"REMOTE_ADDR": "203.0.113.9"}


def samples(web, **kwargs) -> dict:
    """The scraped samples as {(name, sorted labels): value}."""
    response = web.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_app(build):
    return build({"METRICS": {"TOKEN": TOKEN, "REFRESH_SECONDS": 0}})


def test_sign_in_token_and_staff_check_move_their_counters(metrics_app):
    from idp.accounts.service import create_user
    from idp.db import db
    from idp.oidc.clients import create_client

    with metrics_app.app_context():
        create_user("somchai@example.com", "a good long passphrase 42",
                    given_name_th=SOMCHAI["first_name_th"], family_name_th=SOMCHAI["last_name_th"])
        registered = create_client("RP", ["https://rp.example/callback"])
        db.session.commit()
        client_id, secret = registered.client.client_id, registered.client_secret
    web = metrics_app.test_client()
    before = samples(web)
    flow = Flow(web, client_id)
    flow.sign_in(password="wrong password entirely")
    flow.sign_in(password="a good long passphrase 42")
    flow.exchange(flow.code(), secret)
    page = web.get("/verify/staff").get_data(as_text=True)
    web.post("/verify/staff", data={**SOMCHAI, "csrf_token": csrf_token(page)})
    after = samples(web)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("moc_idp_sign_ins_total", outcome="success") == 1
    assert moved("moc_idp_sign_ins_total", outcome="failure") == 1
    assert moved("moc_idp_tokens_issued_total", grant_type="authorization_code",
                 client_id=client_id) == 1
    assert moved("moc_idp_external_checks_total", check="staff", system="AD",
                 outcome="answered") == 1
    assert moved("moc_idp_external_check_duration_seconds_count", check="staff", system="AD") == 1
    assert value(after, "moc_idp_external_system_up", system="AD") == 1
    assert moved("moc_idp_http_requests_total", endpoint="oidc.token", method="POST",
                 status="200") == 1
    assert moved("moc_idp_http_request_duration_seconds_count", endpoint="oidc.token") == 1
    assert value(after, "moc_idp_accounts", membership="permanent", staff_status="verified") == 1
    assert ("moc_idp_audit_unsealed_events", ()) in after
    assert value(after, "moc_idp_review_queue_length") == 0


def test_refresh_reuse_is_counted(metrics_app):
    from idp.accounts.service import create_user
    from idp.db import db
    from idp.oidc.clients import create_client

    with metrics_app.app_context():
        create_user("somchai@example.com", "a good long passphrase 42",
                    given_name_th="สมชาย", family_name_th="ใจดี")
        registered = create_client("RP", ["https://rp.example/callback"],
                                   grant_types=["authorization_code", "refresh_token"])
        db.session.commit()
        client_id, secret = registered.client.client_id, registered.client_secret
    web = metrics_app.test_client()
    flow = Flow(web, client_id)
    flow.sign_in(password="a good long passphrase 42")
    tokens = flow.exchange(flow.code(), secret).json
    before = samples(web)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    auth = (client_id, secret)
    assert web.post("/token", data=refresh, auth=auth).status_code == 200
    assert web.post("/token", data=refresh, auth=auth).status_code == 400
    after = samples(web)
    assert value(after, "moc_idp_refresh_token_reuse_total") - \
        value(before, "moc_idp_refresh_token_reuse_total") == 1
    assert value(after, "moc_idp_tokens_issued_total", grant_type="refresh_token",
                 client_id=client_id) >= 1


def test_refused_from_a_network_not_allowed_without_the_token(metrics_app):
    web = metrics_app.test_client()
    response = web.get("/metrics", environ_base=FAR_AWAY)
    unknown = web.get("/no-such-page", environ_base=FAR_AWAY)
    assert response.status_code == 404 == unknown.status_code
    assert b"moc_idp_" not in response.data
    wrong = web.get("/metrics", environ_base=FAR_AWAY, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404


def test_allowed_from_anywhere_with_the_token(metrics_app):
    web = metrics_app.test_client()
    scraped = samples(web, environ_base=FAR_AWAY, headers={"Authorization": f"Bearer {TOKEN}"})
    assert any(name.startswith("moc_idp_") for name, _ in scraped)


def test_a_request_relayed_by_an_untrusted_proxy_is_not_allowed_by_address(metrics_app):
    # Behind a reverse proxy on loopback that [PROXY] does not name, every client would look
    # like loopback: a forwarded request must bring the token.
    web = metrics_app.test_client()
    assert web.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


def test_behind_trusted_proxies_the_client_address_decides(build):
    app = build({"PROXY": {"TRUSTED_HOPS": 1}})
    web = app.test_client()
    assert web.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert web.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_database_gauges_are_read_at_most_once_per_refresh_period(build):
    from tests.support.queries import counting_statements

    app = build({"METRICS": {"REFRESH_SECONDS": 3600}})
    web = app.test_client()
    with counting_statements(app) as first:
        web.get("/metrics")
    with counting_statements(app) as second:
        web.get("/metrics")
    assert first.count >= 3 and second.count == 0, (first, second)
