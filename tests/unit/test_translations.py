"""The Thai catalog covers the UI and the app loads what the catalog says.

English is the msgid language, so only Thai has a catalog. These tests extract the messages
afresh from the sources (as ``scripts/translations update`` does, with ``babel.cfg``), so a new
``_("...")`` in a template or in ``idp/`` fails here until it is translated and compiled.
"""

from __future__ import annotations

import re
from collections import Counter
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "idp" / "translations"
TH_PO = TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po"
TH_MO = TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.mo"

# Same keywords as scripts/translations: Babel's defaults (_, gettext, ngettext, ...) and _l.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}

# printf-style conversions as Python's % operator reads them: %(name)s, %s, %d, %%, ...
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _msgid(message_id) -> str:
    """A plural message is keyed by its singular form, as in a Catalog."""
    return message_id[0] if isinstance(message_id, tuple) else message_id


def _forms(value) -> tuple[str, ...]:
    """Every form of a msgid or msgstr (a plural entry has several)."""
    return value if isinstance(value, tuple) else (value,)


@pytest.fixture(scope="module")
def extracted() -> dict[str, list[str]]:
    """msgid → places it was found, from a fresh extraction of the sources."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(_msgid(message), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def thai():
    with open(TH_PO, "rb") as f:
        return read_po(f, locale="th")


def test_extraction_finds_the_ui_messages(extracted):
    # Guards the other tests against an extraction that silently finds nothing.
    assert "Sign in" in extracted  # templates (jinja2)
    assert "Password" in extracted  # idp/accounts/forms.py (lazy_gettext as _l)
    assert "The email or password is incorrect." in extracted  # idp/ (gettext as _)


def test_every_message_has_a_thai_translation(extracted, thai):
    problems = []
    for msgid, places in sorted(extracted.items()):
        entry = thai.get(msgid)
        where = ", ".join(places)
        if entry is None:
            problems.append(f"missing from th/messages.po: {msgid!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy in th/messages.po: {msgid!r} ({where})")
        elif not all(form and form.strip() for form in _forms(entry.string)):
            problems.append(f"no Thai translation: {msgid!r} ({where})")
    assert not problems, (
        "run `scripts/translations update`, translate, then `scripts/translations compile`:\n"
        + "\n".join(problems)
    )


def test_compiled_catalog_matches_the_po_file(thai):
    assert TH_MO.is_file(), "run `scripts/translations compile` and commit messages.mo"
    fresh = BytesIO()
    write_mo(fresh, thai)
    fresh.seek(0)
    expected = {m.id: m.string for m in read_mo(fresh) if m.id}
    with open(TH_MO, "rb") as f:
        committed = {m.id: m.string for m in read_mo(f) if m.id}
    stale = sorted(
        _msgid(k) for k in expected.keys() | committed.keys() if expected.get(k) != committed.get(k)
    )
    assert not stale, (
        "messages.mo is out of date with messages.po; run `scripts/translations compile`:\n"
        + "\n".join(repr(s) for s in stale)
    )


def test_thai_translations_keep_the_placeholders(thai):
    problems = []
    for entry in thai:
        if not entry.id:
            continue
        # Thai has one plural form, used for every n: it follows the msgid_plural.
        wanted = Counter(PLACEHOLDER.findall(_forms(entry.id)[-1]))
        for translation in filter(None, _forms(entry.string)):
            got = Counter(PLACEHOLDER.findall(translation))
            if got != wanted:
                problems.append(
                    f"{_msgid(entry.id)!r}: expected {sorted(wanted.elements())}, "
                    f"Thai has {sorted(got.elements())} in {translation!r}"
                )
    assert not problems, "\n".join(problems)
