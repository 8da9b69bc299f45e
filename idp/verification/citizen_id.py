"""Pure helpers for what a DOPA identity check takes: the citizen ID, the laser code, the birth
date in the Buddhist era, and Thai names as DOPA holds them. No I/O, no app.

The citizen ID is personal data under the PDPA: these helpers never put it in an exception
message, and ``mask_citizen_id`` is the only form of it a screen may show.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date

BUDDHIST_ERA_OFFSET = 543  # BE = CE + 543

# Partial birth dates: DOPA records people whose birth day or month is unknown; the card shows
# "-" and the wire format uses "00" (e.g. 24900000 for "some day in 1947").
PartialDate = tuple[int, int | None, int | None]

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_CITIZEN_ID = re.compile(r"[0-9]{13}")
_LASER_CODE = re.compile(r"[A-Z]{2}[0-9]{10}")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")  # spaces, hyphen-minus, Unicode dashes

# Titles people type in front of a Thai name; the longer ones first (นางสาว before นาง).
THAI_TITLES = (
    "เด็กหญิง", "เด็กชาย", "นางสาว", "ด.ญ.", "ด.ช.", "น.ส.", "นาย", "นาง",
)
# A title written without a space ("นายสมชาย") is cut only where a new syllable can start: a
# consonant or a leading vowel (เ แ โ ใ ไ). Before a following vowel or a tone mark the letters
# belong to the name itself ("นางาม", "นายิกา" keep their "นาง", "นาย"). Thai script has no
# word boundaries, so a name that truly begins with a title's letters and then a consonant is
# cut all the same; the signup form asks for the title in its own field, which makes that rare.
_SYLLABLE_START = re.compile("[\u0e01-\u0e2e\u0e40-\u0e44]")


def normalize_citizen_id(text: str) -> str:
    """The ID without spaces or dashes, Thai digits turned into ASCII ones."""
    return _SEPARATORS.sub("", text or "").translate(_THAI_DIGITS)


def is_valid_citizen_id(cid: str) -> bool:
    """13 ASCII digits whose last is the mod-11 check digit; never a run of one digit."""
    # 1111111111111 fails the checksum on its own, but 1111111111119 passes it: a placeholder
    # typed to get past the form, refused as well (twelve equal digits before the check digit).
    if not isinstance(cid, str) or not _CITIZEN_ID.fullmatch(cid) or len(set(cid[:12])) == 1:
        return False
    total = sum(int(digit) * (13 - i) for i, digit in enumerate(cid[:12]))
    return (11 - total % 11) % 10 == int(cid[12])


def mask_citizen_id(cid: str) -> str:
    """The ID as a screen may show it, the last 4 digits only: ``x-xxxx-xxxx0-70-8``."""
    if not isinstance(cid, str) or not _CITIZEN_ID.fullmatch(cid):
        raise ValueError("a citizen ID to mask must be 13 digits")
    return f"x-xxxx-xxxx{cid[9]}-{cid[10:12]}-{cid[12]}"


def normalize_laser_code(text: str | None) -> str | None:
    """The laser code without spaces or dashes, upper-cased; None when nothing was typed."""
    code = _SEPARATORS.sub("", text or "").upper()
    return code or None


def is_valid_laser_code(code: str | None) -> bool:
    """Two letters then ten digits (``JT1234567890``), as printed on the back of the card."""
    return isinstance(code, str) and bool(_LASER_CODE.fullmatch(code))


def buddhist_birthdate(birthdate: date | PartialDate) -> str:
    """The birth date as DOPA wants it: Buddhist-era ``YYYYMMDD``, ``00`` for unknown parts.

    ``birthdate`` is a ``datetime.date`` or a Common-Era ``(year, month, day)`` whose month
    and/or day may be None (unknown). A known day with an unknown month is refused.
    """
    if isinstance(birthdate, date):
        year, month, day = birthdate.year, birthdate.month, birthdate.day
    else:
        year, month, day = birthdate
    _check_partial_date(year, month, day)
    return f"{year + BUDDHIST_ERA_OFFSET:04d}{month or 0:02d}{day or 0:02d}"


def _check_partial_date(year: int, month: int | None, day: int | None) -> None:
    if not isinstance(year, int) or not 1 <= year <= 9999 - BUDDHIST_ERA_OFFSET:
        raise ValueError("birth year out of range")
    if month is None:
        if day is not None:
            raise ValueError("a birth day without a birth month")
        return
    if not 1 <= month <= 12:
        raise ValueError("birth month out of range")
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError("birth day out of range")


def parse_partial_date(text: str) -> date | PartialDate:
    """``YYYY-MM-DD`` in the Common Era, ``00`` for an unknown month or day (stand-in files)."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text or "")
    if not match:
        raise ValueError("a birth date must be written YYYY-MM-DD (00 for unknown parts)")
    year, month, day = (int(part) for part in match.groups())
    if month and day:
        return date(year, month, day)
    partial = (year, month or None, day or None)
    _check_partial_date(*partial)
    return partial


def normalize_thai_name(text: str) -> str:
    """A Thai first or last name as DOPA holds it: NFC, trimmed, single spaces, no title.

    Also joins the nikhahit + sara aa pair some keyboards type for sara am (ํา → ำ) and drops
    invisible characters (zero-width spaces, control characters), which no name contains and
    which would make the XML we send ill-formed.
    """
    name = unicodedata.normalize("NFC", text or "").replace("\u0e4d\u0e32", "\u0e33")
    name = " ".join(name.split())
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return _strip_title(name)


def _strip_title(name: str) -> str:
    for title in THAI_TITLES:
        if not name.startswith(title):
            continue
        rest = name[len(title):]
        if rest.startswith(" ") or title.endswith(".") or _SYLLABLE_START.match(rest):
            return rest.strip() or name
        return name
    return name
