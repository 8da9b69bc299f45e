"""The app's signing keys: the key store each app holds, and the key administration shared by
`moc-idp keys` and the admin console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app

from idp import audit
from idp.clock import now
from idp.oidc.key_table import make_key_store
from idp.oidc.keys import SUPPORTED_ALGS, KeyStore, SigningKey

KEYS = "idp.key_store"


def init_key_store(app: Flask) -> None:
    """Give ``app`` the key store ``[OIDC] KEY_STORE`` names: the keys folder, or the database."""
    app.extensions[KEYS] = make_key_store(app)


def key_store() -> KeyStore:
    """The current app's signing keys."""
    return current_app.extensions[KEYS]


@dataclass(frozen=True)
class KeyRow:
    kid: str
    alg: str
    created_at: datetime
    activates_at: datetime
    retires_at: datetime | None
    state: str  # "next" | "active" | "retiring"


def published_keys() -> list[KeyRow]:
    """Every published key with its state now, oldest first."""
    store, moment = key_store(), now()
    return [KeyRow(k.kid, k.alg, k.created_at, k.activates_at, k.retires_at, store.state(k, moment))
            for k in store.published(moment)]


def rotate_keys(alg: str = "all", *, immediately: bool = False, actor=None) -> list[SigningKey]:
    """Publish a new key per algorithm now; it signs after KEY_ACTIVATION_DELAY_SECONDS (or at
    once, for a key that may have leaked); the old ones retire when their tokens have expired."""
    settings = current_app.config["OIDC"]
    delay = timedelta(seconds=0 if immediately else settings["KEY_ACTIVATION_DELAY_SECONDS"])
    lifetime = timedelta(seconds=max(settings["ID_TOKEN_LIFETIME_SECONDS"],
                                     settings["ACCESS_TOKEN_LIFETIME_SECONDS"]))
    if alg != "all" and alg not in SUPPORTED_ALGS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    rotated = [key_store().rotate(name, now(), delay, lifetime)
               for name in (SUPPORTED_ALGS if alg == "all" else (alg,))]
    audit.record("admin:keys:rotated", actor=actor,
                 details={"kids": [k.kid for k in rotated], "immediately": immediately})
    return rotated
