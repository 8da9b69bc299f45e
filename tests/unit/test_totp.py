"""TOTP (RFC 6238) time steps, recovery-code normalisation, and the audit chain's hashing: no app."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from types import SimpleNamespace

from idp.admin.mfa import _matching_step, _normalized_recovery, _recovery_digest
from idp.audit import scrub
from idp.audit_chain import GENESIS, canonical, link_hash

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; its 8-digit values, cut to the
# 6 digits authenticator apps show.
SEED = base64.b32encode(b"12345678901234567890").decode()
VECTORS = [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_rfc_6238_vectors_match_their_time_step():
    for seconds, code in VECTORS:
        assert _matching_step(SEED, code, at(seconds)) == seconds // 30


def test_one_step_of_drift_either_way_and_no_more():
    seconds, code = 1234567890, "005924"
    assert _matching_step(SEED, code, at(seconds + 30)) == seconds // 30
    assert _matching_step(SEED, code, at(seconds - 30)) == seconds // 30
    assert _matching_step(SEED, code, at(seconds + 61)) is None
    assert _matching_step(SEED, "123456", at(seconds)) is None


def test_recovery_codes_are_compared_without_case_spaces_or_dashes():
    assert _normalized_recovery("AbCd-efgh ijkm-NPQR") == "abcdefghijkmnpqr"
    assert _recovery_digest("abcd-efgh-ijkm-npqr") == _recovery_digest("ABCD EFGH IJKM NPQR")


def row(**changes):
    fields = {"tag": "admin:client:created", "at": at(1_800_000_000), "actor_id": 1, "subject_id": None,
              "client_id": "c", "ip": "127.0.0.1", "user_agent": "ua", "details": {"b": 2, "a": "ไทย"}}
    return SimpleNamespace(**{**fields, **changes})


def test_the_hash_covers_every_field_and_the_previous_hash():
    base = link_hash(GENESIS, row())
    assert base == link_hash(GENESIS, row(details={"a": "ไทย", "b": 2}))  # key order is not content
    for change in ({"tag": "x"}, {"actor_id": 2}, {"details": {"a": "ไทย", "b": 3}}, {"ip": None},
                   {"at": at(1_800_000_001)}):
        assert link_hash(GENESIS, row(**change)) != base, change
    assert link_hash("1" * 64, row()) != base


def test_canonical_form_is_the_same_in_any_timezone():
    from zoneinfo import ZoneInfo

    bangkok = at(1_800_000_000).astimezone(ZoneInfo("Asia/Bangkok"))
    assert canonical(row()) == canonical(row(at=bangkok))


def test_scrub_masks_citizen_id_shapes_only():
    assert scrub({"r": ["1103702071811", "x 1 1037 02071 81 1 y"], "n": 5}) == {
        "r": ["[redacted]", "x [redacted] y"], "n": 5}
    assert scrub("order 123456789012 and 12345678901234") == "order 123456789012 and 12345678901234"
