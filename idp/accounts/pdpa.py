"""Citizen IDs as personal data (PDPA): encrypted at rest, found through a keyed hash.

Ciphertexts are ``kid:nonce:ciphertext`` (AES-256-GCM, base64url), so keys can be rotated:
new values use ``CURRENT_KEY``; older ones stay readable while their key is configured. The
lookup digest is HMAC-SHA256 under a separate key, so equal IDs can be found (one citizen ID
backs at most one account) without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app

from idp.config import table_check
from idp.keyring import KeyRing, generate_key, ring_problems, unb64

EXTENSION = "idp.citizen_id_vault"
__all__ = ["CitizenIdVault", "generate_key", "pdpa_problems", "vault", "vault_from_config"]


@dataclass(frozen=True)
class CitizenIdVault:
    ring: KeyRing
    hmac_key: bytes

    # Bound to the purpose, so a ciphertext cannot be moved into another column unnoticed.
    ASSOCIATED_DATA = b"moc-idp:citizen-id"

    def encrypt(self, citizen_id: str) -> str:
        """``citizen_id`` sealed with AES-GCM under the current key, as ``kid:nonce:ciphertext``."""
        return self.ring.seal(citizen_id.encode(), self.ASSOCIATED_DATA)

    def decrypt(self, stored: str) -> str:
        """The citizen ID a stored ciphertext seals (any configured key)."""
        return self.ring.open(stored, self.ASSOCIATED_DATA).decode()

    def digest(self, citizen_id: str) -> str:
        """The keyed hash (HMAC-SHA256) used to find an account by citizen ID."""
        return hmac.new(self.hmac_key, citizen_id.encode(), hashlib.sha256).hexdigest()

    def needs_reencryption(self, stored: str) -> bool:
        """The ciphertext is sealed under an older key."""
        return self.ring.needs_reencryption(stored)


def vault_from_config(table: dict, secret_key: str) -> CitizenIdVault:
    """The vault from ``[PDPA]``; development without keys derives them from SECRET_KEY."""
    if table.get("ENCRYPTION_KEYS"):
        ring = KeyRing.from_config(table["ENCRYPTION_KEYS"], table["CURRENT_KEY"])
        return CitizenIdVault(ring, unb64(table["HMAC_KEY"]))
    derive = lambda label: hashlib.sha256(f"{label}:{secret_key}".encode()).digest()  # noqa: E731
    return CitizenIdVault(KeyRing({"dev": derive("pdpa-encryption")}, "dev"), derive("pdpa-hmac"))


@table_check
def pdpa_problems(config: dict) -> list[str]:
    """Why the ``[PDPA]`` table cannot protect citizen IDs in production."""
    table = config.get("PDPA", {})
    problems = ring_problems("PDPA", table.get("ENCRYPTION_KEYS") or {}, table.get("CURRENT_KEY"),
                             keys_name="ENCRYPTION_KEYS", current_name="CURRENT_KEY")
    if len(unb64(table.get("HMAC_KEY", ""))) < 32:
        problems.append("[PDPA] HMAC_KEY must be at least 32 bytes (base64url)")
    return problems


def vault() -> CitizenIdVault:
    """The current app's citizen-ID vault."""
    return current_app.extensions[EXTENSION]
