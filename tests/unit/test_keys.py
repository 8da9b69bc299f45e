"""Signing-key rotation: publish first, sign later, retire after the tokens expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.oidc.keys import KeyStore, NoSigningKey

T0 = datetime(2026, 12, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_new_key_is_published_at_once_but_signs_only_after_the_delay(tmp_path):
    store = KeyStore(tmp_path)
    first = store.add("RS256", T0, timedelta(0))
    second = store.rotate("RS256", T0 + HOUR, HOUR, timedelta(minutes=15))
    at = T0 + HOUR + timedelta(minutes=1)
    assert {k["kid"] for k in store.jwks(at)["keys"]} == {first.kid, second.kid}
    assert store.active("RS256", at).kid == first.kid
    assert store.state(second, at) == "next"
    later = T0 + 2 * HOUR
    assert store.active("RS256", later).kid == second.kid
    assert store.state(first, later) == "retiring"


def test_the_old_key_stays_published_until_its_tokens_have_expired(tmp_path):
    store = KeyStore(tmp_path)
    first = store.add("RS256", T0, timedelta(0))
    store.rotate("RS256", T0, HOUR, timedelta(minutes=15))
    published = lambda at: {k["kid"] for k in store.jwks(at)["keys"]}  # noqa: E731
    assert first.kid in published(T0 + HOUR + timedelta(minutes=14))
    assert first.kid not in published(T0 + HOUR + timedelta(minutes=15))


def test_token_signed_by_the_store_verifies_and_names_its_kid(tmp_path):
    store = KeyStore(tmp_path)
    key = store.add("ES256", T0, timedelta(0))
    token = store.sign({"sub": "x"}, "ES256", T0)
    assert store.verify(token, T0) == {"sub": "x"}
    jwk = store.jwks(T0)["keys"][0]
    assert jwk["kid"] == key.kid and jwk["alg"] == "ES256" and "d" not in jwk


def test_a_token_from_a_foreign_key_does_not_verify(tmp_path):
    ours, theirs = KeyStore(tmp_path / "ours"), KeyStore(tmp_path / "theirs")
    ours.add("RS256", T0, timedelta(0))
    theirs.add("RS256", T0, timedelta(0))
    with pytest.raises(ValueError):
        ours.verify(theirs.sign({"sub": "x"}, "RS256", T0), T0)


def test_no_active_key_is_an_error_not_a_silent_unsigned_token(tmp_path):
    with pytest.raises(NoSigningKey):
        KeyStore(tmp_path).sign({"sub": "x"}, "RS256", T0)


def test_key_files_are_readable_by_the_owner_only(tmp_path):
    key = KeyStore(tmp_path).add("RS256", T0, timedelta(0))
    assert (tmp_path / f"{key.kid}.json").stat().st_mode & 0o077 == 0


class Monotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_a_second_store_on_the_same_folder_sees_a_rotation_after_its_recheck_interval(tmp_path):
    monotonic = Monotonic()
    one, two = KeyStore(tmp_path), KeyStore(tmp_path, recheck_seconds=5, monotonic=monotonic)
    one.add("RS256", T0, timedelta(0))
    assert len(two.jwks(T0)["keys"]) == 1
    one.rotate("RS256", T0, timedelta(0), HOUR)
    assert len(two.jwks(T0)["keys"]) == 1  # held: the folder is not looked at on every use
    monotonic.seconds += 5
    assert len(two.jwks(T0)["keys"]) == 2


def test_keys_are_parsed_once_and_the_folder_read_at_most_once_per_interval(tmp_path, monkeypatch):
    from idp.oidc import keys as keys_module

    monotonic = Monotonic()
    KeyStore(tmp_path).add("RS256", T0, timedelta(0))
    store = KeyStore(tmp_path, recheck_seconds=5, monotonic=monotonic)
    imports, looks = [], []
    real_import, real_fingerprint = keys_module._import, KeyStore._fingerprint
    monkeypatch.setattr(keys_module, "_import", lambda *a: imports.append(a) or real_import(*a))
    monkeypatch.setattr(KeyStore, "_fingerprint", lambda s: looks.append(1) or real_fingerprint(s))
    for _ in range(3):
        store.verify(store.sign({"sub": "x"}, "RS256", T0), T0)
        store.jwks_document(T0)
    assert (len(imports), len(looks)) == (1, 1)
    monotonic.seconds += 5
    store.sign({"sub": "x"}, "RS256", T0)
    assert (len(imports), len(looks)) == (1, 2)  # looked again, nothing changed: nothing parsed


def test_the_jwks_document_changes_when_a_key_retires_with_time_alone(tmp_path):
    store = KeyStore(tmp_path)
    store.add("RS256", T0, timedelta(0))
    store.rotate("RS256", T0, timedelta(0), HOUR)
    body, etag = store.jwks_document(T0)
    assert store.jwks_document(T0) == (body, etag)
    later_body, later_etag = store.jwks_document(T0 + 2 * HOUR)
    assert later_etag != etag and len(later_body) < len(body)
