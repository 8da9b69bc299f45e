"""Language: Thai first, English one click away.

Chosen by the person's choice (the switch), then the RP's ``ui_locales``, then the browser's
Accept-Language, then Thai.
"""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_babel import Babel


def select_locale() -> str:
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
    return Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path) + "/translations",
        default_timezone="Asia/Bangkok",
    )
