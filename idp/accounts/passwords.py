"""Password hashing with argon2id (RFC 9106) by the ``[PASSWORDS]`` parameters, upgraded on
sign-in when they change."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

EXTENSION = "idp.passwords"


@dataclass(frozen=True)
class Hashing:
    """The app's argon2id hasher, and a hash made with the same parameters that no password
    matches: verified against when an account has no password or does not exist, so that a
    failed sign-in costs one hash either way and does not reveal which emails have accounts."""

    hasher: PasswordHasher
    dummy_hash: str


def hashing_from_config(settings: dict) -> Hashing:
    """Hashing with the ``[PASSWORDS]`` parameters."""
    hasher = PasswordHasher(time_cost=settings["TIME_COST"],
                            memory_cost=settings["MEMORY_COST_KIB"],
                            parallelism=settings["PARALLELISM"], type=Type.ID)
    return Hashing(hasher, hasher.hash("no account has this password"))


def _hashing() -> Hashing:
    hashing = current_app.extensions.get(EXTENSION)
    if hashing is None:  # built once per app, on first use (the dummy hash costs one hash)
        hashing = current_app.extensions[EXTENSION] = hashing_from_config(
            current_app.config["PASSWORDS"])
    return hashing


def _nfc(password: str) -> str:
    # Thai can be typed as different code-point sequences; hash one canonical form.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    return _hashing().hasher.hash(_nfc(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    hashing = _hashing()
    try:
        matches = hashing.hasher.verify(password_hash or hashing.dummy_hash, _nfc(password))
        return matches and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the configured ones."""
    return _hashing().hasher.check_needs_rehash(password_hash)


MIN_LENGTH = 8
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str = ""):
    """The reason this password is refused (a lazy translated string), or None.

    NIST SP 800-63B 5.1.1.2: at least 8 characters, any characters (Thai too), no
    composition rules, and not a commonly used or context-specific password.
    """
    normalized = unicodedata.normalize("NFC", password)
    if len(normalized) < MIN_LENGTH:
        return _l("The password must have at least 8 characters.")
    if len(normalized) > MAX_LENGTH:
        return _l("The password is too long.")
    lowered = normalized.casefold()
    local_part = email.split("@")[0].casefold()
    if lowered in common_passwords() or (local_part and lowered == local_part):
        return _l("This password is too common or easy to guess. Please choose another.")
    return None
