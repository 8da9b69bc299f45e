"""The OpenID Provider's routes, one module per area; all on the ``oidc`` blueprint."""

from __future__ import annotations

from idp.oidc.views import applications, authorization, documents, endpoints, logout
from idp.oidc.views.common import bp

__all__ = ["applications", "authorization", "bp", "documents", "endpoints", "logout"]
