"""Password hashing with argon2id (RFC 9106), upgraded on sign-in when parameters change."""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile

# Verified against when an account has no password or does not exist, so that a failed sign-in
# costs the same time either way and does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("no account has this password")


def _nfc(password: str) -> str:
    # Thai can be typed as different code-point sequences; hash one canonical form.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_nfc(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, _nfc(password)) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


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
