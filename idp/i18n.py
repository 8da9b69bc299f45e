"""Language: Thai first, English one click away.

Chosen by the person's choice (the switch), then the RP's ``ui_locales``, then the browser's
Accept-Language, then Thai.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, request, session
from flask_babel import Babel, get_locale

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",
               "พ.ย.", "ธ.ค.")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def N_(msgid: str) -> str:  # noqa: N802 (gettext's marker name)
    """Mark a msgid for the catalog without translating it here (it is translated where shown)."""
    return msgid


def display_date(moment: date | datetime | None) -> str:
    """A date as people read it: "26 พ.ย. 2569" (Buddhist era) in Thai, "26 Nov 2026" in English;
    datetimes are shown in Thai time."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = moment.astimezone(BANGKOK).date()
    if str(get_locale()) == "th":
        return f"{moment.day} {THAI_MONTHS[moment.month - 1]} {moment.year + BUDDHIST_ERA_OFFSET}"
    return f"{moment.day} {ENGLISH_MONTHS[moment.month - 1]} {moment.year}"


def select_locale() -> str:
    """The page's language: the person's choice, the RP's ui_locales, the browser's, then the default."""
    supported = current_app.config["LOCALES"]
    if session.get("locale") in supported:
        return session["locale"]
    for tag in g.get("ui_locales", ()):
        language = tag.split("-")[0].lower()
        if language in supported:
            return language
    if request.accept_languages:
        best = request.accept_languages.best_match(supported)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def init_babel(app) -> Babel:
    """Set up Flask-Babel: Thai or English per request, Bangkok time, and the ``display_date`` filter."""
    app.add_template_filter(display_date, "display_date")
    return Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path) + "/translations",
        default_timezone="Asia/Bangkok",
    )
