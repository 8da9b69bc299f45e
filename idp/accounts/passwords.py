"""Password hashing with argon2id (RFC 9106) by the ``[PASSWORDS]`` parameters, upgraded on
sign-in when they change."""

from __future__ import annotations

import gzip
import re
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
    """The argon2id hash of ``password`` (NFC-normalised first)."""
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
MIN_PERSONAL_WORD = 3  # shorter names and email local parts are too common to refuse
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\W\d_]+$")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _stem(text: str) -> str:
    """``Password123!`` -> ``password``: the word people decorate to pass composition rules."""
    return _TRAILING_DIGITS_AND_SYMBOLS.sub("", _folded(text))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list (see common_passwords.NOTICE), each entry folded and stemmed too."""
    path = Path(__file__).with_name("common_passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        entries = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    return (frozenset(_folded(e) for e in entries) | frozenset(_stem(e) for e in entries)) - {""}


def is_common(password: str) -> bool:
    """The password, or the password without its trailing digits and symbols, is common."""
    listed = common_passwords()
    return _folded(password) in listed or _stem(password) in listed


def personal_words(email: str = "", names=()) -> list[str]:
    """The words of the person that a password must not contain: the email's local part and
    each name (Thai or English) of at least three characters."""
    words = [email.split("@")[0]] + [n for n in names if n]
    return [_folded(w).strip() for w in words if len(_folded(w).strip()) >= MIN_PERSONAL_WORD]


def password_problem(password: str, email: str = "", names=()):
    """The reason this password is refused (a lazy translated string), or None.

    NIST SP 800-63B 5.1.1.2: at least 8 characters, any characters (Thai too), no
    composition rules, and not a commonly used or context-specific password.
    """
    normalized = unicodedata.normalize("NFC", password)
    if len(normalized) < MIN_LENGTH:
        return _l("The password must have at least 8 characters.")
    if len(normalized) > MAX_LENGTH:
        return _l("The password is too long.")
    if is_common(normalized):
        return _l("This password is too common or easy to guess. Please choose another.")
    folded = _folded(normalized)
    if any(word in folded for word in personal_words(email, names)):
        return _l("The password must not contain your name or your email address.")
    return None
