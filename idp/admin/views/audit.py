"""The audit log: filters, the newest events, and the CSV export of the same view."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request, stream_with_context

from idp import audit_chain
from idp.admin import guard
from idp.admin.audit_log import AuditFilter, export_csv, find_events
from idp.admin.views.common import bp
from idp.clock import now


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filter() -> AuditFilter:
    args = request.args
    return AuditFilter(tag_prefix=args.get("tag", "")[:80], actor=args.get("actor", "")[:320],
                       subject=args.get("subject", "")[:320], since=_day(args.get("since")),
                       until=_day(args.get("until")))


@bp.get("/audit")
@guard.role()
def audit_log():
    """The audit log, filtered and paged."""
    selected = _filter()
    return render_template("admin/audit.html", selected=selected, events=find_events(selected),
                           chain=audit_chain.verify_chain() if request.args.get("verify") else None)


@bp.get("/audit.csv")
@guard.role()
def audit_export():
    """The filtered audit log as a CSV download (audited)."""
    selected = _filter()
    name = f"audit-{now():%Y%m%d-%H%M%S}.csv"
    response = Response(stream_with_context(export_csv(selected)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
