"""A ring of named AES-256-GCM keys: what the PDPA vault (citizen IDs) and the database key
store (private signing keys) both seal with.

A sealed value is ``kid:nonce:ciphertext`` (base64url), so keys rotate: new values use the
current key, older ones stay readable while their key is configured. The associated data binds
a ciphertext to its purpose (and row), so it cannot be moved elsewhere unnoticed.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64(data: bytes) -> str:
    """``data`` as unpadded base64url text (how keys are written in the config)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """The bytes of unpadded (or padded) base64url ``text``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key() -> str:
    """A new 256-bit key, base64url (``moc-idp pdpa generate-key``)."""
    return b64(os.urandom(32))


@dataclass(frozen=True)
class KeyRing:
    keys: dict  # kid -> 32-byte key
    current_kid: str

    @classmethod
    def from_config(cls, keys: dict[str, str], current: str) -> KeyRing:
        """The ring from a table's base64url keys."""
        return cls({kid: unb64(value) for kid, value in keys.items()}, current)

    def seal(self, plaintext: bytes, associated: bytes) -> str:
        """``plaintext`` under the current key, as ``kid:nonce:ciphertext``."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current_kid]).encrypt(nonce, plaintext, associated)
        return f"{self.current_kid}:{b64(nonce)}:{b64(sealed)}"

    def open(self, stored: str, associated: bytes) -> bytes:
        """What ``stored`` seals, under whichever configured key sealed it."""
        kid, nonce, sealed = stored.split(":")
        return AESGCM(self.keys[kid]).decrypt(unb64(nonce), unb64(sealed), associated)

    def needs_reencryption(self, stored: str) -> bool:
        """``stored`` is sealed under an older key."""
        return not stored.startswith(self.current_kid + ":")


def ring_problems(table: str, keys: dict, current: str | None, *, keys_name: str,
                  current_name: str) -> list[str]:
    """Why a config table's ring cannot protect anything: no key, no current key, a key that is
    not 32 bytes."""
    if not keys:
        return [f"[{table}] {keys_name} is empty (generate one: moc-idp pdpa generate-key)"]
    problems = []
    if current not in keys:
        problems.append(f"[{table}] {current_name} does not name one of {keys_name}")
    problems += [f"[{table}] key {kid!r} of {keys_name} is not 32 bytes (base64url)"
                 for kid, value in keys.items() if len(unb64(value)) != 32]
    return problems
