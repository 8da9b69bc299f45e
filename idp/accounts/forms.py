"""Forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from idp.accounts.passwords import password_problem


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        DataRequired(message=_l("Please enter your email.")),
        Email(message=_l("Please enter a valid email address, e.g. name@example.com.")),
        Length(max=320, message=_l("The email is too long.")),
    ])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(message=_l("Please enter your password.")),
        Length(max=1024, message=_l("The password is too long.")),
    ])
    interaction = HiddenField()
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A form with only its CSRF token (sign-out, confirmations)."""


THAI_NAME = re.compile(r"^[\u0E01-\u0E4E][\u0E01-\u0E4E .\-]*$")
LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z .'\-]*$")
TITLES_TH = ("นาย", "นาง", "นางสาว")
GENDERS = [SelectChoice("male", _l("Male")), SelectChoice("female", _l("Female")),
           SelectChoice("other", _l("Other")), SelectChoice("unspecified", _l("Prefer not to say"))]
BUDDHIST_ERA_OFFSET = 543


def _date_parts(text: str) -> tuple[int, int, int]:
    """(year, month, day) of YYYY-MM-DD or DD/MM/YYYY, year in the Common Era: a year from
    2400 on is Buddhist-era (พ.ศ.), since no living person was born after 2400 CE."""
    text = (text or "").strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or None
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if not match:
            raise ValueError("format")
        day, month, year = (int(g) for g in match.groups())
    if year >= 2400:
        year -= BUDDHIST_ERA_OFFSET
    return year, month, day


def parse_birthdate(text: str) -> date:
    """A full birth date typed in either era."""
    return date(*_date_parts(text))


def parse_registry_birthdate(text: str):
    """A birth date as on a Thai ID card, where ``00`` marks an unknown day or month:
    a ``date``, or ``(year, month | None, None)`` / ``(year, None, None)``."""
    year, month, day = _date_parts(text)
    if month and day:
        return date(year, month, day)
    if day and not month:
        raise ValueError("day without month")
    if month and not 1 <= month <= 12:
        raise ValueError("month")
    return (year, month or None, None)


class BirthdateField(StringField):
    """A date typed in either era; ``data`` is a ``date`` once valid, the raw text meanwhile."""

    parse = staticmethod(parse_birthdate)

    def process_formdata(self, valuelist):
        """Keep the typed text and parse it as a date in either era; refuse text that is no date."""
        self.raw = valuelist[0] if valuelist else ""
        self.data = self.raw
        if not self.raw:
            return
        try:
            self.data = self.parse(self.raw)
        except ValueError:
            raise ValidationError(_l("Please enter the date as day/month/year, e.g. 26/11/2530.")) from None

    def _value(self):
        if isinstance(self.data, date):
            return self.data.strftime("%d/%m/") + str(self.data.year + BUDDHIST_ERA_OFFSET)
        if isinstance(self.data, tuple):
            year, month, _day = self.data
            return f"00/{month or 0:02d}/{year + BUDDHIST_ERA_OFFSET}"
        return self.data or ""


class RegistryBirthdateField(BirthdateField):
    """As on the ID card: ``00`` for a day or month the civil registry does not know."""

    parse = staticmethod(parse_registry_birthdate)


def _required(message):
    return DataRequired(message=message)


NAME_FIELDS = ("given_name_th", "family_name_th", "given_name_en", "family_name_en")


class NewPasswordMixin:
    """A new password, checked against the person's own email and names: those typed in the
    form (signup), or those of ``self.account`` when the view sets it (reset, change)."""

    account = None

    def _personal(self) -> tuple[str, list[str]]:
        if self.account is not None:
            return self.account.email, [getattr(self.account, name) for name in NAME_FIELDS]
        typed = lambda name: getattr(getattr(self, name, None), "data", "") or ""  # noqa: E731
        return typed("email"), [typed(name) for name in NAME_FIELDS]

    def validate_password(self, field):
        """Refuse a common password, or one containing the person's email or names."""
        email, names = self._personal()
        problem = password_problem(field.data or "", email, names)
        if problem:
            raise ValidationError(str(problem))

    def validate_password_confirm(self, field):
        """Refuse a confirmation that differs from the new password."""
        if field.data != self.password.data:
            raise ValidationError(_("The two passwords are not the same."))


class SignupForm(NewPasswordMixin, FlaskForm):
    title_th = SelectField(_l("Title"), choices=[SelectChoice(t, t) for t in TITLES_TH],
                           validators=[_required(_l("Please choose a title."))])
    given_name_th = StringField(_l("First name (Thai)"), validators=[
        _required(_l("Please enter your first name in Thai.")), Length(max=100),
        Regexp(THAI_NAME, message=_l("Please use Thai letters only."))])
    family_name_th = StringField(_l("Last name (Thai)"), validators=[
        _required(_l("Please enter your last name in Thai.")), Length(max=100),
        Regexp(THAI_NAME, message=_l("Please use Thai letters only."))])
    given_name_en = StringField(_l("First name (English, optional)"), validators=[
        Optional(), Length(max=100), Regexp(LATIN_NAME, message=_l("Please use English letters only."))])
    family_name_en = StringField(_l("Last name (English, optional)"), validators=[
        Optional(), Length(max=100), Regexp(LATIN_NAME, message=_l("Please use English letters only."))])
    gender = SelectField(_l("Gender"), choices=GENDERS,
                         validators=[_required(_l("Please choose a gender."))])
    birthdate = BirthdateField(_l("Date of birth"),
                               validators=[_required(_l("Please enter your date of birth."))])
    email = EmailField(_l("Email"), validators=[
        _required(_l("Please enter your email.")), Length(max=320),
        Email(message=_l("Please enter a valid email address, e.g. name@example.com."))])
    personnel_type = RadioField(_l("Personnel type"), choices=[
        SelectChoice("public", _l("General public")),
        SelectChoice("moc", _l("Personnel within the Ministry of Commerce"))],
        validators=[_required(_l("Please choose a personnel type."))])
    department = StringField(_l("Agency (department)"), validators=[Length(max=200)])
    position = StringField(_l("Position"), validators=[Length(max=200)])
    password = PasswordField(_l("Password"), validators=[_required(_l("Please enter a password."))])
    password_confirm = PasswordField(_l("Confirm password"),
                                     validators=[_required(_l("Please enter the password again."))])
    pdpa_consent = BooleanField(validators=[
        DataRequired(message=_l("Please agree to the processing of your personal data."))])
    interaction = HiddenField()

    def validate_birthdate(self, field):
        """Refuse a birth date before 1900 or in the future."""
        if isinstance(field.data, date) and not date(1900, 1, 1) <= field.data <= date.today():
            raise ValidationError(_("Please check the date of birth."))

    def validate_department(self, field):
        """MOC personnel must name their agency."""
        if self.personnel_type.data == "moc" and not (field.data or "").strip():
            raise ValidationError(_("MOC personnel must enter their agency."))

    def validate_position(self, field):
        """MOC personnel must name their position."""
        if self.personnel_type.data == "moc" and not (field.data or "").strip():
            raise ValidationError(_("MOC personnel must enter their position."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[
        _required(_l("Please enter your email.")), Length(max=320),
        Email(message=_l("Please enter a valid email address, e.g. name@example.com."))])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required(_l("Please enter a password."))])
    password_confirm = PasswordField(_l("Confirm new password"),
                                     validators=[_required(_l("Please enter the password again."))])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[_required(_l("Please enter your current password."))])
    password = PasswordField(_l("New password"), validators=[_required(_l("Please enter a password."))])
    password_confirm = PasswordField(_l("Confirm new password"),
                                     validators=[_required(_l("Please enter the password again."))])
