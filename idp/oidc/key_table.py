"""Signing keys in the database (``[OIDC] KEY_STORE = "database"``), so instances share them
through PostgreSQL alone. Private keys are stored encrypted (AES-256-GCM) with a key-encryption
key from ``[OIDC] KEY_ENCRYPTION_KEYS`` / ``CURRENT_KEY_ENCRYPTION_KEY`` (separate from the PDPA
keys; several may be listed so the current one can change; production refuses to start without
one); development without one derives it from SECRET_KEY.

The per-process cache of parsed keys is ``KeyStore``'s: each process looks at the table (one
small query of kids and retirement times) at most every ``[SERVER] KEYS_RECHECK_SECONDS``, so a
rotation made on one instance is used by every other within that time. The keys folder stays an
import/export path: ``moc-idp keys import`` and ``moc-idp keys export``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from flask import Flask
from sqlalchemy.orm import Mapped, mapped_column

from idp.config import table_check
from idp.db import UtcDateTime, db
from idp.keyring import KeyRing, ring_problems
from idp.oidc.keys import KeyStore, SigningKey

log = logging.getLogger("idp.oidc.keys")


class UnreadableSigningKey(RuntimeError):
    """A stored key does not decrypt with the configured key-encryption keys."""


class StoredSigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activates_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # "<kek id>:<nonce>:<ciphertext>" of the private JWK's JSON, bound to the kid.
    private_jwk_encrypted: Mapped[str] = mapped_column(sa.Text)


class KeyEncryption:
    """Private JWKs sealed in the key ring of ``[OIDC] KEY_ENCRYPTION_KEYS``, bound to their kid
    (a ciphertext moved to another key's row does not decrypt)."""

    def __init__(self, ring: KeyRing):
        self.ring = ring

    def seal(self, kid: str, jwk: dict) -> str:
        """The private JWK encrypted under the current key, bound to ``kid``."""
        return self.ring.seal(json.dumps(jwk).encode(), b"moc-idp:signing-key:" + kid.encode())

    def open(self, kid: str, stored: str) -> dict:
        """The private JWK that ``seal`` stored for ``kid``."""
        return json.loads(self.ring.open(stored, b"moc-idp:signing-key:" + kid.encode()))


def encryption_from_config(oidc: dict, secret_key: str) -> KeyEncryption:
    """The KEK from ``[OIDC]``; development without one derives it from SECRET_KEY."""
    if oidc.get("KEY_ENCRYPTION_KEYS"):
        return KeyEncryption(KeyRing.from_config(oidc["KEY_ENCRYPTION_KEYS"],
                                                 oidc["CURRENT_KEY_ENCRYPTION_KEY"]))
    derived = hashlib.sha256(f"signing-kek:{secret_key}".encode()).digest()
    return KeyEncryption(KeyRing({"dev": derived}, "dev"))


@table_check
def key_encryption_problems(config: dict) -> list[str]:
    """Why ``[OIDC]`` cannot protect signing keys stored in the database in production."""
    oidc = config["OIDC"]
    if oidc.get("KEY_STORE", "folder") != "database":
        return []
    return ring_problems("OIDC", oidc.get("KEY_ENCRYPTION_KEYS") or {},
                         oidc.get("CURRENT_KEY_ENCRYPTION_KEY"), keys_name="KEY_ENCRYPTION_KEYS",
                         current_name="CURRENT_KEY_ENCRYPTION_KEY")


class DatabaseKeyStore(KeyStore):
    """``KeyStore`` over the ``signing_keys`` table, through its own connections (it is used
    before the app, by the JWKS middleware, and must not join a request's transaction)."""

    def __init__(self, app: Flask, encryption: KeyEncryption, **options):
        super().__init__(app.config["OIDC"]["KEYS_DIR"], **options)
        self.app, self.encryption = app, encryption

    def _engine(self):
        with self.app.app_context():
            return db.engine

    def _table_exists(self) -> bool:
        return sa.inspect(self._engine()).has_table(StoredSigningKey.__tablename__)

    def _fingerprint(self) -> tuple | None:
        table = StoredSigningKey
        try:
            with self._engine().connect() as connection:
                rows = connection.execute(sa.select(table.kid, table.retires_at)).all()
        except sa.exc.DatabaseError as error:  # not migrated yet, or the database is down
            log.warning("signing keys cannot be read from the database: %s", type(error).__name__)
            # "Unchanged": keep the keys held (none at the first read) rather than read the
            # table, which fails the same way (`moc-idp db upgrade` could not start at all).
            return self._seen
        return tuple(sorted((kid, str(retires)) for kid, retires in rows))

    def _read_keys(self) -> list[SigningKey]:
        with self._engine().connect() as connection:
            rows = connection.execute(sa.select(StoredSigningKey.__table__)).all()
        return [SigningKey(kid=row.kid, alg=row.alg, created_at=row.created_at,
                           activates_at=row.activates_at, retires_at=row.retires_at,
                           private_jwk=self._open(row.kid, row.private_jwk_encrypted))
                for row in rows]

    def _open(self, kid: str, sealed: str) -> dict:
        try:
            return self.encryption.open(kid, sealed)
        except (InvalidTag, KeyError, ValueError) as error:
            raise UnreadableSigningKey(
                f"signing key {kid} cannot be decrypted with [OIDC] KEY_ENCRYPTION_KEYS "
                f"(a missing or different key-encryption key?)") from error

    def add(self, alg, at, activation_delay):
        """See ``KeyStore.add``; before the first migration there is nowhere to put a key."""
        if not self._table_exists():
            log.warning("no signing_keys table yet (run: moc-idp db upgrade); no key made")
            return None
        return super().add(alg, at, activation_delay)

    def _write(self, key: SigningKey) -> None:
        values = {"alg": key.alg, "created_at": key.created_at, "activates_at": key.activates_at,
                  "retires_at": key.retires_at,
                  "private_jwk_encrypted": self.encryption.seal(key.kid, key.private_jwk)}
        table = StoredSigningKey.__table__
        with self._engine().begin() as connection:
            updated = connection.execute(table.update().where(table.c.kid == key.kid)
                                         .values(**values)).rowcount
            if not updated:
                connection.execute(table.insert().values(kid=key.kid, **values))
        self._changed()

    def _delete(self, key: SigningKey) -> None:
        with self._engine().begin() as connection:
            connection.execute(sa.delete(StoredSigningKey).where(StoredSigningKey.kid == key.kid))

    def import_key(self, key: SigningKey) -> bool:
        """Store ``key`` (from a key file) unless a key with its kid is stored already."""
        if any(held.kid == key.kid for held in self.keys()):
            return False
        self._write(key)
        return True


def make_key_store(app: Flask) -> KeyStore:
    """The key store ``[OIDC] KEY_STORE`` names: ``folder`` (default) or ``database``."""
    oidc, options = app.config["OIDC"], {"recheck_seconds": app.config["SERVER"]["KEYS_RECHECK_SECONDS"]}
    if oidc.get("KEY_STORE", "folder") == "database":
        return DatabaseKeyStore(app, encryption_from_config(oidc, app.config["SECRET_KEY"]), **options)
    if oidc.get("KEY_STORE", "folder") != "folder":
        raise ValueError(f"[OIDC] KEY_STORE must be 'folder' or 'database', not {oidc['KEY_STORE']!r}")
    return KeyStore(oidc["KEYS_DIR"], **options)
