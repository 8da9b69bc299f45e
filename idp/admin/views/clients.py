"""OAuth clients: list, register, edit, rotate the secret, disable, enable, delete."""

from __future__ import annotations

import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.accounts.forms import EmptyForm
from idp.admin import guard
from idp.admin.forms import ClientForm, DeleteClientForm
from idp.admin.views.common import bp, problem_text
from idp.db import db
from idp.oidc import clients

MANAGE = guard.CLIENT_MANAGER


def _client_or_404(client_id: str):
    client = clients.find_client(client_id)
    if client is None:
        abort(404)
    return client


@bp.get("/clients")
@guard.role(MANAGE)
def clients_list():
    """Every registered client."""
    return render_template("admin/clients_list.html", clients=clients.list_clients())


def _form_page(form, client=None, problems=(), status=200):
    return render_template("admin/client_form.html", form=form, client=client,
                           problems=[problem_text(p) for p in problems]), status


def _new_client_form() -> ClientForm:
    form = ClientForm()
    if request.method == "GET":
        form.scopes.data = clients.DEFAULT_SCOPE.split()
        form.grant_types.data = ["authorization_code", "refresh_token"]
    return form


@bp.route("/clients/new", methods=["GET", "POST"])
@guard.role(MANAGE, step_up=True)
def client_new():
    """Register a client; its secret is shown once."""
    form = _new_client_form()
    if request.method == "GET":
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    settings = form.settings()
    try:
        registered = clients.create_client(
            settings.pop("name"), settings.pop("redirect_uris"),
            auth_method=form.token_endpoint_auth_method.data, actor=g.admin_user, **settings)
    except clients.InvalidClientSettings as error:
        return _form_page(form, problems=error.problems, status=400)
    db.session.commit()
    return _secret_page(registered.client, registered.client_secret, created=True)


def _secret_page(client, secret, *, created: bool):
    """The secret, shown this once (the response is not cached: security.headers)."""
    if secret is None:
        flash(_("The client is registered. It is public, so it has no secret."))
        return redirect(url_for("admin.client_detail", client_id=client.client_id))
    config = clients.relying_party_config(client)
    return render_template("admin/client_secret.html", client=client, secret=secret,
                           created=created, config=config, snippet=_snippet(config, secret))


def _snippet(config, secret=None) -> str:
    settings = dict(config.settings)
    if secret and "client_secret" in settings:
        settings["client_secret"] = secret
    return json.dumps(settings, indent=2, ensure_ascii=False)


@bp.get("/clients/<client_id>")
@guard.role(MANAGE)
def client_detail(client_id: str):
    """One client's settings."""
    client = _client_or_404(client_id)
    config = clients.relying_party_config(client)
    return render_template("admin/client_detail.html", client=client, config=config,
                           snippet=_snippet(config),
                           form=EmptyForm())


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
@guard.role(MANAGE, step_up=True)
def client_edit(client_id: str):
    """Change a client's settings."""
    client = _client_or_404(client_id)
    form = ClientForm()
    if request.method == "GET":
        form.fill(client)
        return _form_page(form, client)
    if not form.validate_on_submit():
        return _form_page(form, client, status=400)
    try:
        updated = clients.update_client(
            client, actor=g.admin_user, token_endpoint_auth_method=form.token_endpoint_auth_method.data,
            **form.settings())
    except clients.InvalidClientSettings as error:
        db.session.rollback()
        return _form_page(form, client, problems=error.problems, status=400)
    db.session.commit()
    if updated.client_secret:
        return _secret_page(client, updated.client_secret, created=False)
    flash(_("The changes are saved.") if updated.changed else _("Nothing was changed."))
    return redirect(url_for("admin.client_detail", client_id=client_id))


@bp.post("/clients/<client_id>/secret")
@guard.role(MANAGE, step_up=True)
def client_rotate_secret(client_id: str):
    """Issue a new secret; the old one stops working at once."""
    client = _client_or_404(client_id)
    try:
        secret = clients.rotate_secret(client, actor=g.admin_user)
    except clients.InvalidClientSettings as error:
        flash(problem_text(error.problems[0]))
        return redirect(url_for("admin.client_detail", client_id=client_id))
    db.session.commit()
    return _secret_page(client, secret, created=False)


@bp.post("/clients/<client_id>/disable")
@guard.role(MANAGE)
def client_disable(client_id: str):
    """Disable a client and revoke its tokens."""
    client = _client_or_404(client_id)
    if client.disabled_at is None:
        clients.disable_client(client, actor=g.admin_user)
        db.session.commit()
        flash(_("The client is disabled and its tokens are revoked."))
    return redirect(url_for("admin.client_detail", client_id=client_id))


@bp.post("/clients/<client_id>/enable")
@guard.role(MANAGE)
def client_enable(client_id: str):
    """Let a disabled client sign people in again."""
    client = _client_or_404(client_id)
    if client.disabled_at is not None:
        clients.enable_client(client, actor=g.admin_user)
        db.session.commit()
        flash(_("The client is enabled again."))
    return redirect(url_for("admin.client_detail", client_id=client_id))


@bp.route("/clients/<client_id>/delete", methods=["GET", "POST"])
@guard.role(MANAGE, step_up=True)
def client_delete(client_id: str):
    """Delete a client with its tokens, codes and consents."""
    client = _client_or_404(client_id)
    form = DeleteClientForm()
    if request.method == "GET":
        return render_template("admin/client_delete.html", client=client, form=form)
    if not form.validate_on_submit() or form.confirm_name.data.strip() != client.name:
        form.confirm_name.errors = [_("The name does not match.")]
        return render_template("admin/client_delete.html", client=client, form=form), 400
    name = client.name
    clients.delete_client(client, actor=g.admin_user)
    db.session.commit()
    flash(_("The client %(name)s is deleted.", name=name))
    return redirect(url_for("admin.clients_list"))
