"""Every lookup of a sign-in, an SSO hop and a refresh uses an index: no sequential scan of
accounts, sessions, clients, consents, codes or tokens, whatever their size.

The statements checked are the ones the app really sends (recorded from the requests), each
explained by the database under test. On PostgreSQL with ``enable_seqscan = off``: the planner
still picks a sequential scan only when no index serves the lookup (on small tables it would
otherwise prefer one anyway). On SQLite, EXPLAIN QUERY PLAN says SCAN for the same."""

from __future__ import annotations

import pytest

from idp.db import db
from idp.oidc import client_cache
from tests.support.flows import query_of
from tests.support.queries import counting_statements

TABLES = ("users", "login_sessions", "oauth_clients", "oauth_consents",
          "oauth_authorization_codes", "oauth_tokens")


def sent_by(app, send) -> list[tuple[str, object]]:
    with counting_statements(app) as statements:
        response = send()
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    return [(sql, params) for sql, params in statements.sent
            if sql.lstrip().split()[0].upper() in ("SELECT", "UPDATE", "DELETE")]


def plan(connection, dialect: str, sql: str, params) -> str:
    cursor = connection.cursor()
    if dialect == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())
    cursor.execute("SET enable_seqscan = off")
    cursor.execute("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in cursor.fetchall())


def sequential_scans(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        words = line.replace("->", " ").split()
        for table in TABLES:
            if (f"Seq Scan on {table}" in line
                    or (words[:2] == ["SCAN", table] and "USING" not in words)):
                found.append(line.strip())
    return found


@pytest.fixture
def hot_statements(app, flow):
    """The lookups of a sign-in, an SSO hop (authorize with a session, code redemption) and a
    refresh, as the app sends them."""
    app.config["AUDIT"] = {**app.config["AUDIT"], "SEAL_IN_BACKGROUND": False}
    # Each request reads its client (the per-process cache would hide that lookup after the
    # first): it too must use an index.
    app.extensions[client_cache.EXTENSION].seconds = 0
    flow.web.get("/")  # a fresh browser: the sign-in below sets the session
    statements = sent_by(app, lambda: flow.sign_in())
    tokens = flow.tokens(flow.secret)  # consent given once
    response = None

    def authorize():
        nonlocal response
        response = flow.authorize()
        return response

    statements += sent_by(app, authorize)
    code = query_of(response.headers["Location"])["code"]
    statements += sent_by(app, lambda: flow.exchange(code, flow.secret))
    statements += sent_by(app, lambda: flow.web.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(flow.client_id, flow.secret)))
    return statements


def test_hot_lookups_use_an_index(app, hot_statements):
    assert len(hot_statements) >= 10
    assert any("FROM oauth_clients" in sql for sql, _ in hot_statements)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            scans = {sql.split(" FROM ")[-1][:160]: sequential_scans(
                plan(connection, db.engine.dialect.name, sql, params))
                     for sql, params in hot_statements}
        finally:
            connection.rollback()
            connection.close()
    assert not {sql: found for sql, found in scans.items() if found}


def test_a_lookup_without_an_index_is_caught(app):
    """The check itself: a lookup by a column no index covers shows up as a scan."""
    with app.app_context():
        dialect = db.engine.dialect.name
        sql = ("SELECT id FROM oauth_tokens WHERE scope = ?" if dialect == "sqlite"
               else "SELECT id FROM oauth_tokens WHERE scope = %(scope)s")
        params = ("openid",) if dialect == "sqlite" else {"scope": "openid"}
        connection = db.engine.raw_connection()
        try:
            assert sequential_scans(plan(connection, dialect, sql, params))
        finally:
            connection.rollback()
            connection.close()
