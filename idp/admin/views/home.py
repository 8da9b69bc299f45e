"""The console's home: what each role may do from here."""

from __future__ import annotations

from flask import g, render_template

from idp.accounts.forms import EmptyForm
from idp.admin import guard, mfa
from idp.admin.views.common import bp


@bp.get("/")
@guard.any_role()
def home():
    """The console's home page: the areas the person may open."""
    user = g.admin_user
    return render_template(
        "admin/home.html", user=user, roles=guard.roles_of(user), form=EmptyForm(),
        can_clients=guard.may(user, guard.CLIENT_MANAGER), can_admin=guard.may(user),
        can_review=guard.may(user, guard.REVIEWER),
        recovery_left=mfa.unused_recovery_codes(user),
    )
