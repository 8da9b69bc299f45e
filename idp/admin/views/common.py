"""What the console's views share: the blueprint, its 403 page, the menu, dates, problems."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, has_request_context, render_template
from flask_babel import get_locale, gettext

from idp.accounts.sessions import current_session
from idp.admin import guard
from idp.i18n import BANGKOK, BUDDHIST_ERA_OFFSET

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.errorhandler(403)
def forbidden(_error):
    """The console's own page for a role the person does not hold."""
    return render_template("admin/forbidden.html"), 403


def nav_context() -> dict:
    """base.html links to the console for members who hold a console role; the console's own
    menu shows only the areas the person may open."""
    if not has_request_context():
        return {}
    session = current_session()
    context = {"admin_console_link": bool(session and guard.roles_of(session.user))}
    user = g.get("admin_user")
    if user is not None:
        context["admin_menu"] = {"clients": guard.may(user, guard.CLIENT_MANAGER),
                                 "review": guard.may(user, guard.REVIEWER),
                                 "admin": guard.may(user)}
    return context


@bp.app_template_filter("admin_datetime")
def admin_datetime(moment: datetime | None, with_time: bool = True) -> str:
    """Thai time; the year in the Buddhist era (พ.ศ.) on Thai pages, as DESIGN.md asks."""
    if moment is None:
        return "—"
    local = moment.astimezone(BANGKOK)
    year = local.year + (BUDDHIST_ERA_OFFSET if str(get_locale()) == "th" else 0)
    day = f"{local:%d/%m}/{year}"
    return f"{day} {local:%H:%M}" if with_time else day


def problem_text(problem) -> str:
    """An idp.oidc.clients.Problem in the page's language."""
    field = gettext(problem.field) if problem.field else ""
    return gettext(problem.msgid, field=field, value=problem.shown_value)

