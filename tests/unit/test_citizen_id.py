"""The pure helpers behind a DOPA check: citizen ID, laser code, BE birth date, Thai names."""

from __future__ import annotations

from datetime import date

import pytest

from idp.verification.citizen_id import (
    buddhist_birthdate,
    is_valid_citizen_id,
    is_valid_laser_code,
    mask_citizen_id,
    normalize_citizen_id,
    normalize_laser_code,
    normalize_thai_name,
    parse_partial_date,
)

VALID_IDS = ["1101700230708", "3100500123458", "5209900456784", "3700100987654", "1100600111226"]


# --- citizen ID ---------------------------------------------------------------------------

@pytest.mark.parametrize("cid", VALID_IDS)
def test_valid_citizen_ids_pass_the_checksum(cid):
    assert is_valid_citizen_id(cid)


@pytest.mark.parametrize("cid", VALID_IDS)
def test_every_other_check_digit_fails(cid):
    for digit in "0123456789":
        if digit != cid[-1]:
            assert not is_valid_citizen_id(cid[:-1] + digit), digit


def test_a_changed_body_digit_fails_the_checksum():
    assert not is_valid_citizen_id("1101700230718")  # 12th digit changed, check digit kept
    assert not is_valid_citizen_id("2101700230708")  # first digit changed


def check_digit(body: str) -> str:
    return str((11 - sum(int(d) * (13 - i) for i, d in enumerate(body)) % 11) % 10)


@pytest.mark.parametrize("digit", "0123456789")
def test_all_same_digit_numbers_are_refused(digit):
    assert not is_valid_citizen_id(digit * 13)
    # With its right check digit (1111111111119) the run passes the checksum: still refused.
    assert not is_valid_citizen_id(digit * 12 + check_digit(digit * 12))


def test_the_check_digit_rule_is_the_mod_11_one():
    assert check_digit("110170023070") == "8"  # Σ d[i]·(13−i) = 146; (11 − 146 mod 11) mod 10
    assert all(is_valid_citizen_id(cid[:12] + check_digit(cid[:12])) for cid in VALID_IDS)


@pytest.mark.parametrize("cid", ["", "110170023070", "11017002307080", "1101700230708 "])
def test_wrong_lengths_are_refused(cid):
    assert not is_valid_citizen_id(cid)


@pytest.mark.parametrize("cid", ["110170023070a", "1-1017-00230-70-8", "๑๑๐๑๗๐๐๒๓๐๗๐๘", None, 1101700230708])
def test_non_digits_are_refused_until_normalized(cid):
    assert not is_valid_citizen_id(cid)


@pytest.mark.parametrize("typed", ["1-1017-00230-70-8", " 1 1017 00230 70 8 ", "1–1017–00230–70–8",
                                   "๑๑๐๑๗๐๐๒๓๐๗๐๘"])
def test_normalize_strips_spaces_and_dashes_and_reads_thai_digits(typed):
    assert normalize_citizen_id(typed) == "1101700230708"
    assert is_valid_citizen_id(normalize_citizen_id(typed))


def test_mask_shows_the_last_four_digits_only():
    assert mask_citizen_id("1101700230708") == "x-xxxx-xxxx0-70-8"
    assert mask_citizen_id("3100500123458") == "x-xxxx-xxxx3-45-8"


def test_mask_refuses_a_malformed_id_without_echoing_it():
    with pytest.raises(ValueError) as raised:
        mask_citizen_id("12345")
    assert "12345" not in str(raised.value)


# --- laser code ---------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["JT1-2345678-90", "jt1234567890", " JT 1234567890 ", "JT1234567890"])
def test_laser_code_is_normalized_to_the_card_format(typed):
    assert normalize_laser_code(typed) == "JT1234567890"
    assert is_valid_laser_code(normalize_laser_code(typed))


@pytest.mark.parametrize("typed", [None, "", " - "])
def test_an_empty_laser_code_is_none(typed):
    assert normalize_laser_code(typed) is None


@pytest.mark.parametrize("code", ["J1234567890", "JT123456789", "JT12345678901", "1T1234567890",
                                  "JTA234567890", "jt1234567890", "ฟห1234567890", None])
def test_malformed_laser_codes_are_refused(code):
    assert not is_valid_laser_code(code)


# --- Buddhist-era birth date --------------------------------------------------------------

def test_birthdate_is_buddhist_era_yyyymmdd():
    assert buddhist_birthdate(date(1985, 3, 14)) == "25280314"
    assert buddhist_birthdate(date(2000, 1, 1)) == "25430101"
    assert buddhist_birthdate((1985, 3, 14)) == "25280314"


def test_unknown_day_or_month_is_zero():
    assert buddhist_birthdate((1947, None, None)) == "24900000"
    assert buddhist_birthdate((1960, 7, None)) == "25030700"


@pytest.mark.parametrize("partial", [(1960, None, 5), (1960, 13, None), (1960, 0, None),
                                     (1960, 2, 30), (1961, 2, 29), (0, None, None)])
def test_impossible_birthdates_are_refused(partial):
    with pytest.raises(ValueError):
        buddhist_birthdate(partial)


def test_leap_day_is_a_birthdate():
    assert buddhist_birthdate((1960, 2, 29)) == "25030229"


def test_partial_dates_are_read_from_the_file_format():
    assert parse_partial_date("1985-03-14") == date(1985, 3, 14)
    assert parse_partial_date("1947-00-00") == (1947, None, None)
    assert parse_partial_date("1960-07-00") == (1960, 7, None)
    for bad in ("1960-00-05", "1985-3-14", "25280314", ""):
        with pytest.raises(ValueError):
            parse_partial_date(bad)


# --- Thai names ---------------------------------------------------------------------------

@pytest.mark.parametrize("typed, name", [
    ("นายสมชาย", "สมชาย"),
    ("นาย สมชาย", "สมชาย"),
    ("นางสาวสมหญิง", "สมหญิง"),
    ("น.ส.สมหญิง", "สมหญิง"),
    ("นางสมศรี", "สมศรี"),
    ("ด.ช.ภูมิ", "ภูมิ"),
    ("ด.ญ. ใบเตย", "ใบเตย"),
    ("เด็กชายภูมิ", "ภูมิ"),
    ("เด็กหญิงใบเตย", "ใบเตย"),
    ("นายเอก", "เอก"),  # a leading vowel starts the name
])
def test_a_leading_title_is_removed(typed, name):
    assert normalize_thai_name(typed) == name


@pytest.mark.parametrize("name", ["นางาม", "นายิกา", "สมชาย", "นาย", "นาง"])
def test_letters_that_belong_to_the_name_are_kept(name):
    assert normalize_thai_name(name) == name


def test_whitespace_is_trimmed_and_collapsed():
    assert normalize_thai_name("  สม   ชาย \t") == "สม ชาย"
    assert normalize_thai_name("\u00a0สมชาย\u3000") == "สมชาย"


def test_names_are_nfc():
    assert normalize_thai_name("Rene\u0301") == "Ren\u00e9"


def test_nikhahit_and_sara_aa_become_sara_am():
    assert normalize_thai_name("ทองค\u0e4d\u0e32") == "ทองคำ"


def test_invisible_characters_are_dropped():
    assert normalize_thai_name("สม\u200bชาย") == "สมชาย"
    assert normalize_thai_name("สมชาย\x00\x0b") == "สมชาย"
