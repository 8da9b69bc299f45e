"""Error pages in the person's language, for errors raised outside a view's own handling."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def _page(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


def too_large_page():
    """Thai (or English) for a request body over the limit, never Werkzeug's raw 413."""
    return _page(_("What you sent is too large"),
                 _("The data or file you sent is larger than this page accepts. Go back, choose "
                   "a smaller file and try again."), 413)


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return _page(_("The form has expired"),
                     _("For your security the form could not be sent. Go back, reload the page "
                       "and try again."), 400)

    @app.errorhandler(404)
    def not_found(_error):
        return _page(_("Page not found"), _("There is no page at this address."), 404)

    @app.errorhandler(413)
    def too_large(_error):
        return too_large_page()

    @app.errorhandler(429)
    def too_many(_error):
        return _page(_("Too many requests"), _("Please wait a moment and try again."), 429)
