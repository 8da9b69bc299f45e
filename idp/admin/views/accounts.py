"""Accounts: search, the account page, and the actions an admin takes (each with a reason)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.accounts.service import find_by_sub
from idp.admin import accounts as service
from idp.admin import guard
from idp.admin.forms import ExtendForm, ReasonForm, RolesForm, SearchForm
from idp.admin.views.common import bp
from idp.db import db
from idp.oidc.clients import N_

# Each action with only a reason: (service function, message when done, needs step-up). The form
# prefix is the action's name, so the account page holds every form with distinct field ids.
ACTIONS = {
    "disable": (service.disable_account, N_("The account is disabled; its sessions ended and "
                                            "its tokens are revoked."), False),
    "enable": (service.enable_account, N_("The account is enabled again."), False),
    "end-sessions": (service.end_sessions, N_("Every session of the account has ended."), False),
    "unlock-sign-in": (service.unlock_sign_in, N_("The failed sign-in attempts are forgotten; "
                                                  "the owner can sign in again at once."), False),
    "revoke-staff": (service.revoke_staff, N_("The staff status is revoked."), False),
    "reset-mfa": (service.reset_mfa, N_("The second factor is reset; the person enrols again at "
                                        "the next admin sign-in."), True),
    "resend-verification": (service.resend_verification,
                            N_("The email-verification link is sent again."), False),
    "unlink-identity": (service.unlink_identity,
                        N_("The identity is unlinked: staff status dropped, sessions ended, "
                           "tokens revoked; the account is temporary again."), True),
}


def _user_or_404(sub: str):
    user = find_by_sub(sub)
    if user is None:
        abort(404)
    return user


@bp.route("/accounts", methods=["GET", "POST"])
@guard.role()
def accounts_search():
    """POST, not GET: what is searched for (later a citizen ID) must never be in a URL."""
    form = SearchForm()
    results = None
    if request.method == "POST" and form.validate_on_submit():
        results = service.search_accounts(form.query.data, actor=g.admin_user)
        db.session.commit()  # the audit event of a citizen-ID search
    status = 400 if request.method == "POST" and results is None else 200
    return render_template("admin/accounts_search.html", form=form, results=results), status


def _forms(user, **bound) -> dict:
    forms = {name: ReasonForm(prefix=name, formdata=None) for name in ACTIONS}
    forms["extend"] = ExtendForm(prefix="extend", formdata=None)
    forms["roles"] = RolesForm(prefix="roles", formdata=None,
                               roles=sorted(guard.roles_of(user)))
    forms.update(bound)
    return forms


def _account_page(user, problems=(), status=200, **bound):
    return render_template(
        "admin/account_detail.html", overview=service.account_overview(user), user=user,
        current_roles=sorted(guard.roles_of(user)),
        forms=_forms(user, **bound), problems=list(problems),
        own_account=user.id == g.admin_user.id, role_labels=guard.ROLE_LABELS,
    ), status


@bp.get("/accounts/<sub>")
@guard.role()
def account_detail(sub: str):
    """One account: overview, sessions, linked clients, recent events."""
    return _account_page(_user_or_404(sub))[0]


def _run(user, name, form, action, done: str, **extra):
    if not form.validate_on_submit():
        problems = [e for errors in form.errors.values() for e in errors]
        return _account_page(user, problems, 400, **{name: form})
    try:
        action(user, actor=g.admin_user, reason=form.reason.data, **extra)
    except service.AccountActionRefused as refused:
        db.session.rollback()
        status = 403 if user.id == g.admin_user.id else 400
        return _account_page(user, [_(refused.msgid)], status, **{name: form})
    db.session.commit()
    flash(done)
    return redirect(url_for("admin.account_detail", sub=user.sub))


def _action_view(name: str, function, done: str, step_up: bool):
    def view(sub: str):
        """Run the account action from its form, with a reason; refused actions are shown."""
        return _run(_user_or_404(sub), name, ReasonForm(prefix=name), function, _(done))

    view.__name__ = "account_" + name.replace("-", "_")
    return guard.role(step_up=step_up)(view)


for _name, (_function, _done, _step_up) in ACTIONS.items():
    _view = _action_view(_name, _function, _done, _step_up)
    bp.add_url_rule(f"/accounts/<sub>/{_name}", _view.__name__, _view, methods=["POST"])


@bp.post("/accounts/<sub>/extend")
@guard.role()
def account_extend(sub: str):
    """Set a temporary account's last day."""
    user = _user_or_404(sub)
    form = ExtendForm(prefix="extend")
    last_day = form.last_day.data if form.validate_on_submit() else None
    return _run(user, "extend", form, service.extend_account,
                _("The account's last day is changed."), last_day=last_day)


@bp.post("/accounts/<sub>/roles")
@guard.role(step_up=True)
def account_roles(sub: str):
    """Change the account's console roles."""
    user = _user_or_404(sub)
    form = RolesForm(prefix="roles")
    return _run(user, "roles", form, service.set_roles, _("The roles are changed."),
                roles=list(form.roles.data or []))
