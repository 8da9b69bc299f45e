"""Signing keys kept as JSON files in the keys folder, with a rotation life-cycle.

A key is ``next`` (published, not yet signing), ``active`` (the newest published key of its
algorithm whose activation time has passed: it signs), or ``retiring`` (superseded, still
published until the tokens it signed have expired). Publishing before signing lets relying
parties that cache the JWKS pick the new key up before they meet it (OIDC Core 10.1.1).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

SUPPORTED_ALGS = ("RS256", "ES256")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    created_at: datetime
    activates_at: datetime
    retires_at: datetime | None
    private_jwk: dict

    def is_published(self, at: datetime) -> bool:
        """The key is still in the JWKS at ``at`` (not retired)."""
        return self.retires_at is None or self.retires_at > at

    def to_file(self) -> dict:
        """The key's file contents (private JWK and its dates)."""
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created_at": self.created_at.isoformat(),
            "activates_at": self.activates_at.isoformat(),
            "retires_at": self.retires_at.isoformat() if self.retires_at else None,
            "jwk": self.private_jwk,
        }

    @classmethod
    def from_file(cls, data: dict) -> SigningKey:
        """The key stored in ``path``."""
        retires = data.get("retires_at")
        return cls(
            kid=data["kid"],
            alg=data["alg"],
            created_at=datetime.fromisoformat(data["created_at"]),
            activates_at=datetime.fromisoformat(data["activates_at"]),
            retires_at=datetime.fromisoformat(retires) if retires else None,
            private_jwk=data["jwk"],
        )


class NoSigningKey(RuntimeError):
    """No active key for the algorithm: run ``moc-idp keys rotate``."""


def _import(alg: str, jwk: dict):
    return RSAKey.import_key(jwk) if alg == "RS256" else ECKey.import_key(jwk)


def strong_etag(body: bytes) -> str:
    """A strong entity tag (RFC 9110 8.8.3) naming exactly these bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def generate_private_jwk(alg: str) -> dict:
    """A new private key for ``alg`` (RS256 or ES256)."""
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True).as_dict(private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True).as_dict(private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


@dataclass(frozen=True)
class LoadedKey:
    """A key file parsed once: the imported key object and its public JWK, ready to use."""

    key: SigningKey
    imported: RSAKey | ECKey
    public: dict


def load(key: SigningKey) -> LoadedKey:
    # Importing an RSA JWK runs the key's consistency checks (tens of milliseconds): once per
    # key file change in a process, never per request.
    """``key`` imported for signing, with its public JWK."""
    imported = _import(key.alg, key.private_jwk)
    public = {**imported.as_dict(private=False), "kid": key.kid, "alg": key.alg, "use": "sig"}
    return LoadedKey(key, imported, public)


class KeyStore:
    """The keys folder, parsed once and held; looks for changes at most every
    ``recheck_seconds`` (by the monotonic clock), so other processes' rotations are noticed
    without touching the filesystem on each request. Its own writes are seen at once."""

    def __init__(self, folder: str | os.PathLike, *, recheck_seconds: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic):
        self.folder = Path(folder)
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._loaded: tuple[LoadedKey, ...] = ()
        self._seen: tuple | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()
        self._jwks: dict[tuple, tuple[bytes, str]] = {}
        self.version = 0  # goes up each time the key set read from the folder changes

    def _fingerprint(self) -> tuple:
        if not self.folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in self.folder.glob("*.json")))

    def _current(self) -> tuple[LoadedKey, ...]:
        moment = self._monotonic()
        checked = self._checked_at
        if checked is None or moment - checked >= self.recheck_seconds:
            with self._lock:
                self._reload_if_changed()
                self._checked_at = moment
        return self._loaded

    def _reload_if_changed(self) -> None:
        fingerprint = self._fingerprint()
        if fingerprint == self._seen:
            return
        held = {(loaded.key.kid, loaded.key.to_file()["retires_at"]): loaded
                for loaded in self._loaded}
        keys = sorted(self._read_keys(), key=lambda k: k.activates_at)
        self._loaded = tuple(held.get((k.kid, k.to_file()["retires_at"])) or load(k) for k in keys)
        self._seen, self._jwks = fingerprint, {}
        self.version += 1

    def _read_keys(self) -> list[SigningKey]:
        return [SigningKey.from_file(json.loads(p.read_text())) for p in self.folder.glob("*.json")]

    def _changed(self) -> None:
        """After a write by this store: read the folder again on the next use."""
        self._checked_at = None

    def keys(self) -> list[SigningKey]:
        """Every key in the keys folder."""
        return [loaded.key for loaded in self._current()]

    def has_keys(self) -> bool:
        """At least one key exists."""
        return bool(self._current())

    def _published(self, at: datetime) -> list[LoadedKey]:
        return [loaded for loaded in self._current() if loaded.key.is_published(at)]

    def published(self, at: datetime) -> list[SigningKey]:
        """The keys in the JWKS at ``at``."""
        return [loaded.key for loaded in self._published(at)]

    def _active(self, alg: str, at: datetime) -> LoadedKey:
        candidates = [loaded for loaded in self._published(at)
                      if loaded.key.alg == alg and loaded.key.activates_at <= at]
        if not candidates:
            raise NoSigningKey(f"no active {alg} signing key in {self.folder}")
        return candidates[-1]

    def active(self, alg: str, at: datetime) -> SigningKey:
        """The newest published key of ``alg`` whose activation time has passed."""
        return self._active(alg, at).key

    def state(self, key: SigningKey, at: datetime) -> str:
        """``next``, ``active`` or ``retiring``."""
        if key.activates_at > at:
            return "next"
        return "active" if self.active(key.alg, at).kid == key.kid else "retiring"

    def jwks(self, at: datetime) -> dict:
        """The public JWK set published at ``at``."""
        return {"keys": [loaded.public for loaded in self._published(at)]}

    def jwks_document(self, at: datetime) -> tuple[bytes, str]:
        """The JWK Set published at ``at`` as JSON bytes and its strong ETag, serialized once
        per key set (the published set also changes with time, as keys retire)."""
        published = self._published(at)
        cache_key = (self.version, tuple(loaded.key.kid for loaded in published))
        document = self._jwks.get(cache_key)
        if document is None:
            body = json.dumps({"keys": [loaded.public for loaded in published]},
                              separators=(",", ":")).encode()
            document = self._jwks[cache_key] = (body, strong_etag(body))
        return document

    def sign(self, claims: dict, alg: str, at: datetime, *, typ: str = "JWT") -> str:
        """A JWT of ``claims`` signed by the active ``alg`` key."""
        loaded = self._active(alg, at)
        header = {"alg": alg, "kid": loaded.key.kid, "typ": typ}
        return jwt.encode(header, claims, loaded.imported, algorithms=[alg])

    def verify(self, token: str, at: datetime) -> dict:
        """Claims of a JWT this IdP signed with a published key; raises ValueError otherwise."""
        from joserfc.errors import JoseError
        from joserfc.jws import extract_compact

        try:
            header = extract_compact(token.encode()).protected
            loaded = next(k for k in self._published(at) if k.key.kid == header.get("kid"))
            return jwt.decode(token, loaded.imported, [loaded.key.alg]).claims
        except (StopIteration, JoseError, ValueError, TypeError) as error:
            raise ValueError("not a token signed by this issuer") from error

    def add(self, alg: str, at: datetime, activation_delay: timedelta) -> SigningKey:
        """Create and publish an ``alg`` key that signs from ``at + activation_delay``."""
        key = SigningKey(
            kid=f"{alg.lower()}-{at:%Y%m%d}-{secrets.token_hex(4)}",
            alg=alg,
            created_at=at,
            activates_at=at + activation_delay,
            retires_at=None,
            private_jwk=generate_private_jwk(alg),
        )
        self._write(key)
        return key

    def rotate(self, alg: str, at: datetime, activation_delay: timedelta,
               token_lifetime: timedelta) -> SigningKey:
        """Publish a new key now; it signs after ``activation_delay``; older keys then retire
        once every token they could have signed has expired."""
        new = self.add(alg, at, activation_delay)
        for old in self.keys():
            if old.alg == alg and old.kid != new.kid and old.retires_at is None:
                retired = SigningKey(**{**old.__dict__, "retires_at": new.activates_at + token_lifetime})
                self._write(retired)
        self.prune(at)
        return new

    def prune(self, at: datetime) -> None:
        """Delete the key files no longer published at ``at``."""
        for key in self.keys():
            if not key.is_published(at):
                self._delete(key)
                self._changed()

    def _delete(self, key: SigningKey) -> None:
        (self.folder / f"{key.kid}.json").unlink(missing_ok=True)

    def _write(self, key: SigningKey) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{key.kid}.json"
        temporary = path.with_suffix(".tmp")
        # Private keys: owner-only, written whole then renamed, so readers never see half a key.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(key.to_file(), handle, indent=2)
        os.replace(temporary, path)
        self._changed()
