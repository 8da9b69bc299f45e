"""Forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length


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


class EmptyForm(FlaskForm):
    """A form with only its CSRF token (sign-out, confirmations)."""
