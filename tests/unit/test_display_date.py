"""Dates in the Thai UI are in the Buddhist era, in Thai time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from idp.i18n import display_date


@pytest.fixture
def babel_app():
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def test_thai_dates_use_the_buddhist_era_and_thai_month_names(babel_app):
    with force_locale("th"):
        assert display_date(date(2026, 11, 26)) == "26 พ.ย. 2569"


def test_english_dates_stay_in_the_common_era(babel_app):
    with force_locale("en"):
        assert display_date(date(2026, 11, 26)) == "26 Nov 2026"


def test_datetimes_are_shown_on_the_thai_calendar_day(babel_app):
    late_utc = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # 01:30 on 1 Jan 2027 in Bangkok
    with force_locale("th"):
        assert display_date(late_utc) == "1 ม.ค. 2570"
