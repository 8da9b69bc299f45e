"""Signing keys in the database ([OIDC] KEY_STORE = "database"): private keys stored encrypted
with the key-encryption key, a rotation on one instance used by another, the keys folder as an
import/export path, and production refusing to run without a key-encryption key."""

from __future__ import annotations

import json
import re
import stat

import pytest
import sqlalchemy as sa

from idp.accounts.pdpa import generate_key
from idp.config import check_config, load_config

KEK = generate_key()


def database_keys(**oidc) -> dict:
    return {"OIDC": {"KEY_STORE": "database", "KEY_ENCRYPTION_KEYS": {"kek1": KEK},
                     "CURRENT_KEY_ENCRYPTION_KEY": "kek1", **oidc},
            "SERVER": {"KEYS_RECHECK_SECONDS": 0}}


def stored_rows(app) -> list:
    from idp.db import db

    with app.app_context():
        return db.session.execute(sa.text("SELECT kid, private_jwk_encrypted FROM signing_keys")).all()


def rotate(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_keys_are_stored_encrypted_and_sign(build):
    from idp.oidc.signing import KEYS

    app = build(database_keys())
    rotate(app, "--now")
    rows = stored_rows(app)
    assert len(rows) == 2  # RS256 and ES256
    store = app.extensions[KEYS]
    for key in store.keys():
        sealed = dict(rows)[key.kid]
        assert sealed.startswith("kek1:") and key.private_jwk["d"] not in sealed
    with app.app_context():
        token = store.sign({"sub": "x"}, "RS256", app.extensions["idp.clock"].now())
        assert store.verify(token, app.extensions["idp.clock"].now())["sub"] == "x"
    assert {k["kid"] for k in app.test_client().get("/jwks.json").json["keys"]} == set(dict(rows))


def test_a_rotation_on_one_instance_signs_at_the_other(build, clock):
    from idp.oidc.signing import KEYS

    a = build(database_keys())
    b = build(database_keys(), empty=False)
    rotate(a, "--now")
    before = {k["kid"] for k in b.test_client().get("/jwks.json").json["keys"]}
    clock.advance(seconds=1)  # the new key activates after the first ones
    output = rotate(a, "--now", "--alg", "RS256")
    new_kid = re.search(r"published (\S+) \(RS256\)", output).group(1)
    assert new_kid not in before
    assert new_kid in {k["kid"] for k in b.test_client().get("/jwks.json").json["keys"]}
    moment = b.extensions["idp.clock"].now()
    assert b.extensions[KEYS].active("RS256", moment).kid == new_kid


def test_a_fresh_database_is_migrated_and_given_keys_with_the_database_store(tmp_path):
    """`moc-idp db upgrade` starts the app before the signing_keys table exists: the store must
    not read it then (it did, and the command failed on every new deployment)."""
    from idp import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}", **database_keys()})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    rotate(app, "--now")
    assert len(stored_rows(app)) == 2


def test_an_instance_with_another_key_encryption_key_refuses_to_start(build):
    from idp.oidc.key_table import UnreadableSigningKey

    rotate(build(database_keys()), "--now")
    wrong = {"OIDC": {"KEY_ENCRYPTION_KEYS": {"kek1": generate_key()}}}
    with pytest.raises(UnreadableSigningKey, match="cannot be decrypted"):
        build({**database_keys(), **wrong, "OIDC": {**database_keys()["OIDC"], **wrong["OIDC"]}},
              empty=False)


def test_a_sealed_key_moved_to_another_row_does_not_open(build):
    from cryptography.exceptions import InvalidTag

    from idp.oidc.key_table import encryption_from_config

    encryption = encryption_from_config(database_keys()["OIDC"], "unused")
    sealed = encryption.seal("rs256-a", {"kty": "oct"})
    assert encryption.open("rs256-a", sealed) == {"kty": "oct"}
    with pytest.raises(InvalidTag):
        encryption.open("rs256-b", sealed)


def test_key_files_are_imported_once_and_exported_owner_only(build, keys_dir, tmp_path):
    app = build(database_keys())
    runner = app.test_cli_runner()
    files = {p.stem for p in keys_dir.glob("*.json")}
    first = runner.invoke(args=["keys", "import", "--folder", str(keys_dir)])
    assert first.exit_code == 0 and f"imported {len(files)} key(s)" in first.output, first.output
    again = runner.invoke(args=["keys", "import", "--folder", str(keys_dir)])
    assert "imported 0 key(s)" in again.output
    assert {kid for kid, _ in stored_rows(app)} == files
    exported = tmp_path / "out"
    assert runner.invoke(args=["keys", "export", "--folder", str(exported)]).exit_code == 0
    for path in exported.glob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        original = json.loads((keys_dir / path.name).read_text())
        assert json.loads(path.read_text())["jwk"] == original["jwk"]
    assert {p.stem for p in exported.glob("*.json")} == files


def test_import_needs_the_database_store(build, keys_dir):
    result = build({}).test_cli_runner().invoke(args=["keys", "import"])
    assert result.exit_code != 0 and "KEY_STORE" in result.output


def test_production_refuses_the_database_store_without_a_key_encryption_key():
    config = load_config({"MODE": "production", "OIDC": {"KEY_STORE": "database"}})
    problems = check_config(config, keys_present=True)
    assert any("KEY_ENCRYPTION_KEYS" in problem for problem in problems)
    config = load_config({"MODE": "production", **database_keys()})
    assert not any("KEY_ENCRYPTION" in problem for problem in check_config(config, keys_present=True))


def test_readiness_sees_the_database_keys(build):
    app = build(database_keys())
    assert app.test_client().get("/readyz").status_code == 503  # emptied: no key yet
    rotate(app, "--now")
    assert app.test_client().get("/readyz").status_code == 200
