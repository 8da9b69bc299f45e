"""What every answer to a relying party's server carries, whoever gives it (the app, or an
endpoint answered before it)."""

from __future__ import annotations

import re


def assert_server_to_server_headers(response) -> None:
    """JSON, never cached, the security headers, a request id, no cookie, an exact length."""
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert "Set-Cookie" not in response.headers  # no session for a server-to-server call
    assert int(response.headers["Content-Length"]) == len(response.get_data())
