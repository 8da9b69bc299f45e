"""Behind a reverse proxy: the client's IP, scheme, host and port from the proxy's
``X-Forwarded-*`` headers, only when the configuration names the proxies to trust.

``[PROXY] TRUSTED_HOPS`` is how many proxies append to ``X-Forwarded-For`` in front of the app
(0, the default: none, and the headers are ignored); ``TRUSTED_NETWORKS`` optionally lists the
addresses those proxies connect from (e.g. ``["10.0.0.0/8"]``): a request from anywhere else is
taken as it is, headers ignored. Werkzeug's ``ProxyFix`` does the reading: it takes the
``TRUSTED_HOPS``-th value from the right, so values a client put in front are never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

TRUSTED = "idp.trusted_proxy"  # WSGI environ key: this request came through a trusted proxy


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` for requests from a trusted network, nothing for others."""

    def __init__(self, app, *, hops: int, networks: Iterable[str] = ()):
        self.plain = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self.networks = [_network(network) for network in networks]

    def trusts(self, remote_addr: str | None) -> bool:
        """True when the peer may speak for the client (any peer when no networks are named)."""
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            environ[TRUSTED] = True
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"[PROXY] TRUSTED_NETWORKS: {text!r} is not an IP network") from None


def init_proxy(app: Flask) -> None:
    """Wrap ``app.wsgi_app`` when ``[PROXY] TRUSTED_HOPS`` is above 0."""
    table = app.config["PROXY"]
    hops = int(table.get("TRUSTED_HOPS", 0))
    if hops < 0:
        raise ValueError("[PROXY] TRUSTED_HOPS must be 0 or more")
    if hops:
        app.wsgi_app = TrustedProxies(app.wsgi_app, hops=hops,
                                      networks=table.get("TRUSTED_NETWORKS") or ())
