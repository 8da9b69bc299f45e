"""The linked-applications part of the account page: served by oidc, which owns consents.

The account page includes ``oidc/_linked_applications.html``; ``linked_applications`` reaches
that template through the context processor ``oidc.init_app`` registers.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from idp.accounts.forms import EmptyForm
from idp.accounts.sessions import sign_in_required
from idp.db import db
from idp.oidc import consent
from idp.oidc.views.common import bp


def template_globals() -> dict:
    """``linked_applications(user)``: the clients the person has allowed, for the account page."""
    return {"linked_applications": consent.linked_clients}


@bp.post("/account/applications/<client_id>/revoke")
@sign_in_required
def revoke_application(user, client_id: str):
    """The person removes an application's access: its consent and tokens go."""
    if EmptyForm().validate_on_submit() and consent.revoke(user, client_id):
        db.session.commit()
        flash(_("Access for this application has been removed."))
    return redirect(url_for("accounts.account"))
