"""``LdapStaffDirectory``: the ministry's Active Directory over LDAP (``ldap3``), read-only."""

from __future__ import annotations

import math
import re
import socket
import ssl
import struct
from collections.abc import Callable, Mapping

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from idp.verification.ad.role import AMBIGUOUS, SYSTEM, DirectoryEntry, log
from idp.verification.errors import ServiceUnavailable
from idp.verification.resilience import check_time_left, time_left, whole_seconds_left

# userAccountControl flag: https://learn.microsoft.com/en-us/troubleshoot/windows-server/active-directory/useraccountcontrol-manipulate-account-properties
ACCOUNTDISABLE = 0x2
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")  # RFC 4512 §1.4 descr
SUCCESS, SIZE_LIMIT_EXCEEDED = 0, 4


class LdapConnectionFactory:
    """Opens a bound, read-only LDAP connection with bounded timeouts, one per lookup."""

    def __init__(self, url: str, bind_dn: str, bind_password: str, *, use_ssl: bool | None = None,
                 start_tls: bool = False, ca_file: str = "", connect_timeout: float = 3.0,
                 receive_timeout: float = 5.0):
        if not bind_dn or not bind_password:
            # RFC 4513 §5.1.2: a simple bind with a name and no password is "unauthenticated";
            # servers accept it as anonymous. Never send one in the service account's name.
            raise ValueError("the directory needs a bind DN and a non-empty bind password")
        scheme_ssl = {"ldaps": True, "ldap": False}.get(url.split("://", 1)[0].lower()) \
            if "://" in url else None
        if scheme_ssl is not None and use_ssl is not None and use_ssl != scheme_ssl:
            raise ValueError("USE_SSL contradicts the scheme of the directory URL")
        self.use_ssl = bool(scheme_ssl if scheme_ssl is not None else use_ssl)
        if self.use_ssl and start_tls:
            raise ValueError("START_TLS is for ldap:// URLs; an ldaps:// connection is already TLS")
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file or None)
        self.server = ldap3.Server(url, use_ssl=self.use_ssl, tls=tls, get_info=ldap3.NONE,
                                   connect_timeout=connect_timeout)
        self.bind_dn, self._password = bind_dn, bind_password
        # ldap3 sets SO_RCVTIMEO from this as whole seconds (struct "LL"): a float breaks it.
        self.start_tls, self.receive_timeout = start_tls, max(1, math.ceil(receive_timeout))
        if not (self.use_ssl or start_tls):
            log.warning("the directory service password is sent without TLS (%s)", self.server.host)

    def __call__(self) -> ldap3.Connection:
        """A connection bound as the service account; ``ServiceUnavailable`` if that fails."""
        # Inside a resilience.deadline, each wait is clipped to what is left of it.
        check_time_left(SYSTEM)
        connection = ldap3.Connection(
            self.server, user=self.bind_dn, password=self._password, read_only=True,
            auto_referrals=False, raise_exceptions=False,
            receive_timeout=whole_seconds_left(self.receive_timeout))
        try:
            self._open_and_bind(connection)
        except BaseException:
            _close(connection)
            raise
        return connection

    def _open_and_bind(self, connection: ldap3.Connection) -> None:
        try:
            connection.open()
            if self.start_tls and not connection.start_tls():
                raise ServiceUnavailable(SYSTEM, "StartTLS refused")
            if not connection.bind():
                raise ServiceUnavailable(SYSTEM, f"service bind refused ({_description(connection)})")
        except (LDAPException, OSError) as exc:
            raise ServiceUnavailable(SYSTEM, f"cannot connect ({type(exc).__name__})") from exc


class LdapStaffDirectory:
    """``StaffDirectory`` over LDAP: one subtree search per lookup, as the service account."""

    def __init__(self, connect: Callable[[], ldap3.Connection], base_dn: str, *,
                 user_filter: str = "(objectClass=user)", citizen_id_attribute: str = "employeeID",
                 department_attribute: str = "department", title_attribute: str = "title"):
        for name in (citizen_id_attribute, department_attribute, title_attribute):
            if not ATTRIBUTE_NAME.match(name):
                raise ValueError(f"not an LDAP attribute name: {name!r}")
        if not base_dn:
            raise ValueError("the directory needs a base DN")
        self.connect, self.base_dn, self.user_filter = connect, base_dn, user_filter
        self.citizen_id_attribute = citizen_id_attribute
        self.department_attribute, self.title_attribute = department_attribute, title_attribute

    @classmethod
    def from_config(cls, table: Mapping) -> LdapStaffDirectory:
        """From an ``[AD]`` table with ``BACKEND = "ldap"`` (keys in the module docstring)."""
        connect = LdapConnectionFactory(
            table["URL"], table.get("BIND_DN", ""), table.get("BIND_PASSWORD", ""),
            use_ssl=table.get("USE_SSL"), start_tls=bool(table.get("START_TLS", False)),
            ca_file=table.get("CA_FILE", ""),
            connect_timeout=float(table.get("CONNECT_TIMEOUT_SECONDS", 3)),
            receive_timeout=float(table.get("RECEIVE_TIMEOUT_SECONDS", 5)))
        return cls(connect, table.get("BASE_DN", ""),
                   user_filter=table.get("USER_FILTER", "(objectClass=user)"),
                   citizen_id_attribute=table.get("CITIZEN_ID_ATTRIBUTE", "employeeID"),
                   department_attribute=table.get("DEPARTMENT_ATTRIBUTE", "department"),
                   title_attribute=table.get("TITLE_ATTRIBUTE", "title"))

    def find_by_citizen_id(self, citizen_id: str) -> DirectoryEntry | None:
        """See ``StaffDirectory.find_by_citizen_id``."""
        if not citizen_id:
            return None
        entries, complete = self._search(citizen_id)
        if len(entries) > 1 or not complete:
            log.warning(AMBIGUOUS)
            return None
        return self._entry(entries[0]) if entries else None

    def _search(self, citizen_id: str) -> tuple[list[dict], bool]:
        """The entries found, and False if the server held more back (a size limit)."""
        # RFC 4515 §3: every value in a filter is escaped, so input cannot widen the search.
        query = f"(&{self.user_filter}({self.citizen_id_attribute}={escape_filter_chars(citizen_id)}))"
        connection = self.connect()
        try:
            _clip_receive_timeout(connection)
            # Two entries are enough to know the answer is ambiguous; the server stops there.
            connection.search(self.base_dn, query, ldap3.SUBTREE, attributes=self._attributes(),
                              size_limit=2)
            result, response = dict(connection.result or {}), list(connection.response or ())
        except (LDAPException, OSError) as exc:
            # ``from None``: library messages may quote the filter, and so the citizen ID.
            raise ServiceUnavailable(SYSTEM, f"search failed ({type(exc).__name__})") from None
        finally:
            _close(connection)  # unbinding also empties connection.response: read it first
        if result.get("result") not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
            raise ServiceUnavailable(SYSTEM, f"search failed ({result.get('description')})")
        # AD answers continuation references (other partitions) too; only entries count.
        # sizeLimitExceeded: more matched than came back (ours, or a stricter server limit).
        entries = [item for item in response if item.get("type") == "searchResEntry"]
        return entries, result.get("result") == SUCCESS

    def _attributes(self) -> list[str]:
        return ["sAMAccountName", "userPrincipalName", "displayName", "givenName", "sn",
                "userAccountControl", "memberOf", self.department_attribute, self.title_attribute]

    def _entry(self, found: dict) -> DirectoryEntry:
        attributes = found.get("attributes") or {}
        first = lambda name: _first(attributes.get(name))  # noqa: E731
        return DirectoryEntry(
            sam_account_name=first("sAMAccountName"), user_principal_name=first("userPrincipalName"),
            display_name=first("displayName"), given_name=first("givenName"), surname=first("sn"),
            department=first(self.department_attribute), title=first(self.title_attribute),
            enabled=_enabled(first("userAccountControl")),
            member_of=tuple(str(dn) for dn in _values(attributes.get("memberOf"))))


def _values(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _first(value) -> str | None:
    values = _values(value)
    if not values:
        return None
    first = values[0]
    return first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)


def _enabled(user_account_control: str | None) -> bool:
    """Enabled unless ACCOUNTDISABLE is set; False when the flags are missing or unreadable."""
    try:
        return not int(user_account_control) & ACCOUNTDISABLE
    except (TypeError, ValueError):
        return False


def _clip_receive_timeout(connection: ldap3.Connection) -> None:
    """The search waits at most what is left of the deadline (the bind has used some)."""
    check_time_left(SYSTEM)
    seconds = whole_seconds_left(connection.receive_timeout or 5)
    sock = getattr(connection, "socket", None)
    if sock is not None:
        sock.settimeout(max(0.01, time_left(seconds)))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("LL", seconds, 0))


def _description(connection: ldap3.Connection) -> str:
    return str((connection.result or {}).get("description") or "no answer")


def _close(connection: ldap3.Connection) -> None:
    try:
        connection.unbind()
    except (LDAPException, OSError):
        pass
