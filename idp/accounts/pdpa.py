"""Citizen IDs as personal data (PDPA): encrypted at rest, found through a keyed hash.

Ciphertexts are ``kid:nonce:ciphertext`` (AES-256-GCM, base64url), so keys can be rotated:
new values use ``CURRENT_KEY``; older ones stay readable while their key is configured. The
lookup digest is HMAC-SHA256 under a separate key, so equal IDs can be found (one citizen ID
backs at most one account) without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

EXTENSION = "idp.citizen_id_vault"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key() -> str:
    """A new 256-bit key for ``[PDPA] ENCRYPTION_KEYS`` or ``HMAC_KEY``."""
    return _b64(os.urandom(32))


@dataclass(frozen=True)
class CitizenIdVault:
    keys: dict  # kid -> 32-byte key
    current_kid: str
    hmac_key: bytes

    # Bound to the purpose, so a ciphertext cannot be moved into another column unnoticed.
    ASSOCIATED_DATA = b"moc-idp:citizen-id"

    def encrypt(self, citizen_id: str) -> str:
        """``citizen_id`` sealed with AES-GCM under the current key, as ``kid:nonce:ciphertext``."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current_kid]).encrypt(
            nonce, citizen_id.encode(), self.ASSOCIATED_DATA)
        return f"{self.current_kid}:{_b64(nonce)}:{_b64(sealed)}"

    def decrypt(self, stored: str) -> str:
        """The citizen ID a stored ciphertext seals (any configured key)."""
        kid, nonce, sealed = stored.split(":")
        return AESGCM(self.keys[kid]).decrypt(_unb64(nonce), _unb64(sealed),
                                              self.ASSOCIATED_DATA).decode()

    def digest(self, citizen_id: str) -> str:
        """The keyed hash (HMAC-SHA256) used to find an account by citizen ID."""
        return hmac.new(self.hmac_key, citizen_id.encode(), hashlib.sha256).hexdigest()

    def needs_reencryption(self, stored: str) -> bool:
        """The ciphertext is sealed under an older key."""
        return not stored.startswith(self.current_kid + ":")


def vault_from_config(table: dict, secret_key: str) -> CitizenIdVault:
    """The vault from ``[PDPA]``; development without keys derives them from SECRET_KEY."""
    if table.get("ENCRYPTION_KEYS"):
        keys = {kid: _unb64(value) for kid, value in table["ENCRYPTION_KEYS"].items()}
        return CitizenIdVault(keys, table["CURRENT_KEY"], _unb64(table["HMAC_KEY"]))
    derive = lambda label: hashlib.sha256(f"{label}:{secret_key}".encode()).digest()  # noqa: E731
    return CitizenIdVault({"dev": derive("pdpa-encryption")}, "dev", derive("pdpa-hmac"))


def pdpa_problems(table: dict) -> list[str]:
    """Why the ``[PDPA]`` table cannot protect citizen IDs in production."""
    keys = table.get("ENCRYPTION_KEYS") or {}
    if not keys:
        return ["[PDPA] ENCRYPTION_KEYS is empty (generate one: moc-idp pdpa generate-key)"]
    problems = []
    if table.get("CURRENT_KEY") not in keys:
        problems.append("[PDPA] CURRENT_KEY does not name one of ENCRYPTION_KEYS")
    for kid, value in keys.items():
        if len(_unb64(value)) != 32:
            problems.append(f"[PDPA] key {kid!r} is not 32 bytes (base64url)")
    if len(_unb64(table.get("HMAC_KEY", ""))) < 32:
        problems.append("[PDPA] HMAC_KEY must be at least 32 bytes (base64url)")
    return problems


def vault() -> CitizenIdVault:
    """The current app's citizen-ID vault."""
    return current_app.extensions[EXTENSION]
