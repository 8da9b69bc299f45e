"""The factory: production refuses unsafe settings; the migrations match the models."""

from __future__ import annotations

import pytest

from idp import create_app
from idp.config import ConfigError


def test_production_refuses_to_start_listing_every_problem(tmp_path):
    with pytest.raises(ConfigError) as refused:
        create_app({"MODE": "production", "ISSUER": "http://account.moc.go.th",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "OIDC": {"KEYS_DIR": str(tmp_path / "keys")}})
    message = str(refused.value)
    for fragment in ("SECRET_KEY", "https", "stand-in", "signing keys"):
        assert fragment in message
    assert not (tmp_path / "keys").exists()  # production never generates keys by itself


def test_development_generates_keys_on_first_start(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "OIDC": {"KEYS_DIR": str(tmp_path / "keys")}})
    assert {p.name.split("-")[0] for p in (tmp_path / "keys").glob("*.json")} == {"rs256", "es256"}
    assert len(app.test_client().get("/jwks.json").json["keys"]) == 2


def test_migrations_match_the_models(app):
    """Alembic finds nothing to add: every model change comes with its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from idp.db import db

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_discovery_names_every_endpoint_under_the_issuer(web):
    from tests.support.flows import ISSUER

    meta = web.get("/.well-known/openid-configuration").json
    assert meta["issuer"] == ISSUER
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                 "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        assert meta[name].startswith(ISSUER + "/"), name
        assert web.get(meta[name][len(ISSUER):]).status_code != 404, name
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"moc_staff", "moc_account_type", "moc_account_expires_at"} <= set(meta["claims_supported"])
