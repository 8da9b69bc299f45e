"""Console forms (Flask-WTF: every POST form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from idp.admin.guard import ROLE_LABELS, ROLES
from idp.oidc.clients import GRANT_TYPES, SCOPES


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(message=_l("Please enter the code.")),
        Length(max=40, message=_l("The code is too long.")),
    ])
    next = StringField()


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[
        DataRequired(message=_l("Please give the reason for this action.")),
        Length(min=3, max=500, message=_l("The reason must have 3 to 500 characters.")),
    ])


class ExtendForm(ReasonForm):
    last_day = DateField(_l("New last day (Common Era, e.g. 2027-03-31)"), validators=[
        InputRequired(message=_l("Please enter the new last day."))])


class RolesForm(ReasonForm):
    roles = MultiCheckboxField(_l("Roles"), choices=[(r, ROLE_LABELS[r]) for r in ROLES])


class SearchForm(FlaskForm):
    query = StringField(_l("Email, name or exact citizen ID"), validators=[
        DataRequired(message=_l("Please enter an email or a name.")),
        Length(max=320, message=_l("The search is too long.")),
    ])


class KeyRotationForm(FlaskForm):
    alg = SelectField(_l("Algorithm"), choices=[("all", _l("RS256 and ES256")), ("RS256", "RS256"),
                                                ("ES256", "ES256")])
    immediately = BooleanField(_l("Sign with the new key at once (only if a key may have leaked: "
                                  "relying parties that cached the old key list will fail "
                                  "until they refresh it)"))


AUTH_METHOD_CHOICES = [
    ("client_secret_basic", _l("Confidential, secret in the Authorization header (client_secret_basic)")),
    ("client_secret_post", _l("Confidential, secret in the form body (client_secret_post)")),
    ("none", _l("Public: no secret, PKCE required (mobile or single-page app)")),
]
GRANT_LABELS = {
    "authorization_code": _l("Sign-in of people (authorization_code)"),
    "refresh_token": _l("Refresh tokens (refresh_token)"),
    "client_credentials": _l("Service-to-service tokens, no person (client_credentials)"),
}


def _lifetime(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=60, message=_l(
        "A lifetime is at least 60 seconds."))])


class ClientForm(FlaskForm):
    name = StringField(_l("Name of the service"), validators=[
        DataRequired(message=_l("Please enter a name.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    logo_uri = StringField(_l("Logo URL (https)"))
    client_uri = StringField(_l("Home page (https)"))
    redirect_uris = TextAreaField(_l("Redirect URIs (one per line, exact)"))
    post_logout_redirect_uris = TextAreaField(_l("Post-logout redirect URIs (one per line)"))
    backchannel_logout_uri = StringField(_l("Back-channel logout URI"))
    token_endpoint_auth_method = SelectField(_l("Client type"), choices=AUTH_METHOD_CHOICES)
    scopes = MultiCheckboxField(_l("Allowed scopes"), choices=[(s, s) for s in SCOPES])
    grant_types = MultiCheckboxField(_l("Grant types"),
                                     choices=[(g, GRANT_LABELS[g]) for g in GRANT_TYPES])
    require_pkce = BooleanField(_l("Require PKCE (always on for public clients)"))
    trusted = BooleanField(_l("Trusted first-party service: skip the consent page"))
    staff_only = BooleanField(_l("Verified MOC staff only"))
    permanent_only = BooleanField(_l("Permanent members only"))
    access_token_lifetime = _lifetime(_l("Access token lifetime (seconds, empty = server default)"))
    id_token_lifetime = _lifetime(_l("ID token lifetime (seconds, empty = server default)"))
    refresh_token_lifetime = _lifetime(_l("Refresh token lifetime (seconds, empty = server default)"))

    def settings(self) -> dict:
        """The form as keyword arguments of idp.oidc.clients.create_client / update_client."""
        lines = lambda text: [line.strip() for line in (text or "").splitlines() if line.strip()]  # noqa: E731
        return {
            "name": self.name.data or "", "description": self.description.data,
            "logo_uri": self.logo_uri.data, "client_uri": self.client_uri.data,
            "redirect_uris": lines(self.redirect_uris.data),
            "post_logout_redirect_uris": lines(self.post_logout_redirect_uris.data),
            "backchannel_logout_uri": self.backchannel_logout_uri.data,
            "scope": " ".join(self.scopes.data or []),
            "grant_types": list(self.grant_types.data or []),
            "require_pkce": self.require_pkce.data, "trusted": self.trusted.data,
            "staff_only": self.staff_only.data, "permanent_only": self.permanent_only.data,
            "access_token_lifetime": self.access_token_lifetime.data,
            "id_token_lifetime": self.id_token_lifetime.data,
            "refresh_token_lifetime": self.refresh_token_lifetime.data,
        }

    def fill(self, client) -> None:
        """Show an existing client's settings."""
        for name in ("name", "description", "logo_uri", "client_uri", "backchannel_logout_uri",
                     "token_endpoint_auth_method", "require_pkce", "trusted", "staff_only",
                     "permanent_only", "access_token_lifetime", "id_token_lifetime",
                     "refresh_token_lifetime"):
            getattr(self, name).data = getattr(client, name)
        self.redirect_uris.data = "\n".join(client.redirect_uris)
        self.post_logout_redirect_uris.data = "\n".join(client.post_logout_redirect_uris)
        self.scopes.data = client.scope.split()
        self.grant_types.data = list(client.grant_types)


class DeleteClientForm(FlaskForm):
    confirm_name = StringField(_l("Type the client's name to confirm"), validators=[
        DataRequired(message=_l("Please type the client's name."))])
