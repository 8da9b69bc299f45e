"""Checks of a client's settings that need no database: the URIs it registers, and the
``Problem`` type every check reports with (an English msgid the console translates)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from idp.config import is_loopback_url
from idp.i18n import N_


@dataclass(frozen=True)
class Problem:
    """Why settings are refused: an English msgid (in the catalog), the label of the field it
    is about and the offending value, so the CLI prints English and the console Thai."""

    msgid: str
    field: str = ""
    value: str = ""

    def __str__(self) -> str:
        return self.msgid % {"field": self.field, "value": self.shown_value}

    @property
    def shown_value(self) -> str:
        """The value as the message shows it: a number as it is, anything else quoted."""
        return self.value if self.value.isdigit() else repr(self.value)


class InvalidClientSettings(ValueError):
    """The client settings are not acceptable; ``problems`` lists each reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def uri_problems(uri: str, label: str) -> list[Problem]:
    """Why ``uri`` cannot be registered: absolute, https outside loopback, and nothing that
    would make an exact match mean more than one place (RFC 9700 2.1, 4.1.3)."""
    if any(c.isspace() or not c.isprintable() for c in uri):
        return [Problem(N_("%(field)s %(value)s must not contain spaces or control characters"),
                        label, uri)]
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        return [Problem(N_("%(field)s %(value)s is not an absolute URI"), label, uri)]
    problems = []
    # Redirect URIs are compared as exact strings: a "*" would be stored and matched literally,
    # and an admin who wrote one meant a pattern, which we do not offer.
    if "*" in uri:
        problems.append(Problem(N_("%(field)s %(value)s must not contain a wildcard (*): each "
                                   "URI is matched exactly, register each one"), label, uri))
    # RFC 3986 3.2.1 userinfo ("https://rp.example@evil.test/") misleads whoever reads the URI
    # about where it goes; RFC 9700 4.1.1 lists it among open-redirect tricks.
    if "@" in parts.netloc:
        problems.append(Problem(N_("%(field)s %(value)s must not contain a user name or password "
                                   "(user@host)"), label, uri))
    if parts.fragment or uri.endswith("#"):
        problems.append(Problem(N_("%(field)s %(value)s must not have a fragment"), label, uri))
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_url(uri)):
        problems.append(Problem(N_("%(field)s %(value)s must use https (http only on loopback)"),
                                label, uri))
    if len(uri) > 500:
        problems.append(Problem(N_("%(field)s %(value)s is longer than 500 characters"), label, uri))
    return problems


def count_problems(redirect_uris, post_logout_redirect_uris) -> list[Problem]:
    """At most ``OIDC.MAX_REDIRECT_URIS`` of each kind."""
    most = current_app.config["OIDC"]["MAX_REDIRECT_URIS"]
    lists = ((redirect_uris, N_("redirect URIs")),
             (post_logout_redirect_uris, N_("post-logout redirect URIs")))
    return [Problem(N_("At most %(value)s %(field)s may be registered for one client."), label,
                    str(most)) for uris, label in lists if len(uris) > most]


def new_client_id() -> str:
    """24 random URL-safe characters that never start with "-" (a command line would read
    such an id as an option: ``moc-idp clients disable -x...``)."""
    while True:
        client_id = secrets.token_urlsafe(18)
        if not client_id.startswith("-"):
            return client_id
