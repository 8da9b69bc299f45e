"""The console's routes, one module of views per area; all on the ``admin`` blueprint."""

from __future__ import annotations

from idp.admin.views import accounts, audit, clients, home, keys, mfa, review
from idp.admin.views.common import bp, nav_context

__all__ = ["accounts", "audit", "bp", "clients", "home", "keys", "mfa", "nav_context", "review"]
