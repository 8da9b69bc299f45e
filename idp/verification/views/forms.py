"""The identity-check form (seed 3.4: citizen ID, name, date of birth; laser code if needed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length, Regexp

from idp.accounts.forms import THAI_NAME, RegistryBirthdateField
from idp.verification.citizen_id import (
    is_valid_citizen_id,
    is_valid_laser_code,
    normalize_citizen_id,
    normalize_laser_code,
)


class IdentityForm(FlaskForm):
    citizen_id = StringField(_l("13-digit citizen ID number"), validators=[
        DataRequired(message=_l("Please enter your 13-digit citizen ID number.")), Length(max=40)])
    first_name_th = StringField(_l("First name (Thai)"), validators=[
        DataRequired(message=_l("Please enter your first name in Thai.")), Length(max=100),
        Regexp(THAI_NAME, message=_l("Please use Thai letters only."))])
    last_name_th = StringField(_l("Last name (Thai)"), validators=[
        DataRequired(message=_l("Please enter your last name in Thai.")), Length(max=100),
        Regexp(THAI_NAME, message=_l("Please use Thai letters only."))])
    birthdate = RegistryBirthdateField(_l("Date of birth"),
                               validators=[DataRequired(message=_l("Please enter your date of birth."))])
    laser_code = StringField(_l("Laser code (back of the ID card)"), validators=[Length(max=20)])

    def __init__(self, *args, needs_laser_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_laser_code = needs_laser_code

    def validate_citizen_id(self, field):
        """Checked before any call to DOPA (mod-11 check digit; not all one digit)."""
        if not is_valid_citizen_id(normalize_citizen_id(field.data or "")):
            raise ValidationError(_l("This is not a valid citizen ID number. Please check all 13 digits."))

    def validate_laser_code(self, field):
        """A laser code, when asked for, has its printed shape."""
        if not self.needs_laser_code:
            return
        if not field.data:
            raise ValidationError(_l("Please enter the laser code from the back of your ID card."))
        if not is_valid_laser_code(normalize_laser_code(field.data)):
            raise ValidationError(_l("The laser code is 2 letters and 10 digits, e.g. JT1-2345678-90."))
