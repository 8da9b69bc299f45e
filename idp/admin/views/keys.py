"""Signing keys: their states, and rotation (the same service as `moc-idp keys rotate`)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from idp.admin import guard
from idp.admin.forms import KeyRotationForm
from idp.admin.views.common import bp
from idp.db import db
from idp.oidc import signing


@bp.get("/keys")
@guard.role()
def keys_list():
    """The published signing keys and their states."""
    return render_template("admin/keys.html", keys=signing.published_keys(), form=KeyRotationForm())


@bp.post("/keys/rotate")
@guard.role(step_up=True)
def keys_rotate():
    """Publish new signing keys now."""
    form = KeyRotationForm()
    if not form.validate_on_submit():
        return render_template("admin/keys.html", keys=signing.published_keys(), form=form), 400
    rotated = signing.rotate_keys(form.alg.data, immediately=form.immediately.data, actor=g.admin_user)
    db.session.commit()
    flash(_("Published %(kids)s.", kids=", ".join(k.kid for k in rotated)))
    return redirect(url_for("admin.keys_list"))
