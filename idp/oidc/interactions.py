"""Pending authorization requests, kept in the signed Flask session while the person signs in,
chooses an account or consents; at most a few at a time, each for a short while."""

from __future__ import annotations

import secrets

from flask import session

from idp.clock import now, timestamp

KEY = "oidc_interactions"
MAX_PENDING = 5
MAX_AGE_SECONDS = 30 * 60


def save(params: dict) -> str:
    pending = dict(session.get(KEY, {}))
    interaction_id = secrets.token_urlsafe(12)
    pending[interaction_id] = {"params": params, "started_at": timestamp(now()), "flags": []}
    newest = sorted(pending.items(), key=lambda item: item[1]["started_at"])[-MAX_PENDING:]
    session[KEY] = dict(newest)
    return interaction_id


def load(interaction_id: str | None) -> dict | None:
    entry = session.get(KEY, {}).get(interaction_id or "")
    if entry is None or timestamp(now()) - entry["started_at"] > MAX_AGE_SECONDS:
        return None
    return entry


def flag(interaction_id: str, name: str) -> None:
    pending = dict(session.get(KEY, {}))
    if interaction_id in pending:
        entry = dict(pending[interaction_id])
        entry["flags"] = sorted(set(entry["flags"]) | {name})
        pending[interaction_id] = entry
        session[KEY] = pending


def discard(interaction_id: str | None) -> None:
    pending = dict(session.get(KEY, {}))
    if pending.pop(interaction_id or "", None) is not None:
        session[KEY] = pending
