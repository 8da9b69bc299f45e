"""Signing keys kept as JSON files in the keys folder, with a rotation life-cycle.

A key is ``next`` (published, not yet signing), ``active`` (the newest published key of its
algorithm whose activation time has passed: it signs), or ``retiring`` (superseded, still
published until the tokens it signed have expired). Publishing before signing lets relying
parties that cache the JWKS pick the new key up before they meet it (OIDC Core 10.1.1).
"""

from __future__ import annotations

import json
import os
import secrets
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
        return self.retires_at is None or self.retires_at > at

    def public_jwk(self) -> dict:
        key = _import(self.alg, self.private_jwk)
        return {**key.as_dict(private=False), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def to_file(self) -> dict:
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


def generate_private_jwk(alg: str) -> dict:
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True).as_dict(private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True).as_dict(private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


class KeyStore:
    """The keys folder; reads it again whenever it changes, so instances sharing it agree."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._keys: list[SigningKey] = []
        self._seen: tuple | None = None

    def _fingerprint(self) -> tuple:
        if not self.folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in self.folder.glob("*.json")))

    def keys(self) -> list[SigningKey]:
        fingerprint = self._fingerprint()
        if fingerprint != self._seen:
            self._keys = sorted(
                (SigningKey.from_file(json.loads(p.read_text())) for p in self.folder.glob("*.json")),
                key=lambda k: k.activates_at,
            )
            self._seen = fingerprint
        return list(self._keys)

    def has_keys(self) -> bool:
        return bool(self.keys())

    def published(self, at: datetime) -> list[SigningKey]:
        return [k for k in self.keys() if k.is_published(at)]

    def active(self, alg: str, at: datetime) -> SigningKey:
        """The newest published key of ``alg`` whose activation time has passed."""
        candidates = [
            k for k in self.published(at) if k.alg == alg and k.activates_at <= at
        ]
        if not candidates:
            raise NoSigningKey(f"no active {alg} signing key in {self.folder}")
        return candidates[-1]

    def state(self, key: SigningKey, at: datetime) -> str:
        """``next``, ``active`` or ``retiring``."""
        if key.activates_at > at:
            return "next"
        return "active" if self.active(key.alg, at).kid == key.kid else "retiring"

    def jwks(self, at: datetime) -> dict:
        return {"keys": [k.public_jwk() for k in self.published(at)]}

    def sign(self, claims: dict, alg: str, at: datetime, *, typ: str = "JWT") -> str:
        key = self.active(alg, at)
        header = {"alg": alg, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, _import(alg, key.private_jwk), algorithms=[alg])

    def verify(self, token: str, at: datetime) -> dict:
        """Claims of a JWT this IdP signed with a published key; raises ValueError otherwise."""
        from joserfc.errors import JoseError
        from joserfc.jws import extract_compact

        try:
            header = extract_compact(token.encode()).protected
            key = next(k for k in self.published(at) if k.kid == header.get("kid"))
            return jwt.decode(token, _import(key.alg, key.private_jwk), [key.alg]).claims
        except (StopIteration, JoseError, ValueError, TypeError) as error:
            raise ValueError("not a token signed by this issuer") from error

    def add(self, alg: str, at: datetime, activation_delay: timedelta) -> SigningKey:
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
        for key in self.keys():
            if not key.is_published(at):
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
