"""Thai polish that can be checked by a machine: Buddhist-era dates in the Thai UI, a birth
date typed in either era, and the seed guide's own labels on the pages."""

from __future__ import annotations

from datetime import date

import pytest

from tests.e2e.conftest import stored_user
from tests.e2e.pages import BANGKOK, SEED, Account, Member, new_email, new_password, thai_date

ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def test_account_page_shows_the_expiry_in_the_buddhist_era(tab, idp, people, account):
    Member(tab).register(people.take("public"), account).choose_temporary("account")
    last_day = stored_user(idp, account.email).expires_at.astimezone(BANGKOK).date()

    membership = tab.text(".facts")
    thai = thai_date(last_day)
    assert thai in membership, f"expected the last day {thai!r} (พ.ศ.) in {membership!r}"
    assert str(last_day.year) not in membership, "no Common-Era year on the Thai page"

    Member(tab).switch_language("en", "account-english")
    english = f"{last_day.day} {ENGLISH_MONTHS[last_day.month - 1]} {last_day.year}"
    assert english in tab.text(".facts")


def test_a_new_temporary_account_shows_all_its_days(tab, people, account):
    """Right after signup a 60-day membership has 60 days left, not 59."""
    Member(tab).register(people.take("public"), account).choose_temporary("account")
    assert "เหลืออีก 60 วัน" in tab.text(".facts"), tab.text(".facts")


@pytest.mark.parametrize("typed", ["14/03/2528", "14/03/1985"], ids=["buddhist-era", "common-era"])
def test_birth_date_in_either_era_is_the_same_date(tab, idp, people, typed):
    account = Account(new_email("era"), new_password())
    member = Member(tab).register(people.take("public"), account, birthdate=typed)
    assert stored_user(idp, account.email).birthdate == date(1985, 3, 14)

    member.choose_permanent()
    tab.click(tab.page.get_by_role("link", name=SEED["public_method"], exact=True), "verify-identity")
    assert tab.page.input_value("#birthdate") == "14/03/2528", "shown back in the Buddhist era"


def test_pages_use_the_labels_of_the_seed_guide(tab, account, people):
    member = Member(tab).open_landing()
    assert tab.page.get_by_role("link", name=SEED["register_here"], exact=True).count() == 1
    member.follow_register_link()
    assert tab.page.get_by_role("button", name=SEED["confirm_registration"], exact=True).count() == 1
    assert tab.page.get_by_label(SEED["moc_personnel"], exact=True).count() == 1
    member.fill_signup(people.take("public"), account, personnel="moc")
    assert SEED["permanent"] in tab.text("button.choice.permanent")
    assert SEED["temporary"] in tab.text("button.choice.temporary")
    member.choose_permanent()
    for label in ("public_method", "staff_method"):
        assert tab.page.get_by_role("link", name=SEED[label], exact=True).count() == 1
