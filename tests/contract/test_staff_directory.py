"""StaffDirectory contract: the file stand-in and LdapStaffDirectory against a real slapd.

The directory's content is written once below (``PEOPLE``): as LDAP attributes for slapd and
as the ``DirectoryEntry`` each lookup must return, which is also what the stand-in is fed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import traceback
from dataclasses import asdict
from pathlib import Path

import pytest
from ldap3.utils.dn import escape_rdn

from idp.verification.ad import (
    BACKENDS,
    DirectoryEntry,
    FileStaffDirectory,
    LdapConnectionFactory,
    LdapStaffDirectory,
    staff_directory_from_config,
)
from idp.verification.errors import ServiceUnavailable
from tests.support import slapd as slapd_support

ENABLED = "1101700230708"
DISABLED = "3109900123453"
DISABLED_FLAGS = "9000000000047"  # 66050 = NORMAL_ACCOUNT | ACCOUNTDISABLE | DONT_EXPIRE_PASSWORD
NO_EXPIRY = "9000000000039"  # 66048 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD: enabled
NO_FLAGS = "9000000000055"  # no userAccountControl at all
DUPLICATE = "9000000000012"  # held by two accounts
SPECIAL = "9000000000021"  # names full of filter metacharacters and a NUL
FILTER_LIKE = "4*)(x\\"  # a stored value made of filter metacharacters
UNKNOWN = "5701100456788"
EMPLOYEE_NUMBER = "9000000000063"  # held in employeeNumber instead of employeeID
GROUPS = slapd_support.GROUPS_DN


def person(citizen_id, cn, *, uac=512, given=None, sn="ทดสอบ", display=None, department=None,
           title=None, groups=(), id_attribute="employeeID"):
    """One account: its LDAP attributes, and the DirectoryEntry a lookup must return."""
    sam = cn.split()[0].lower()
    attributes = {"objectClass": ["user"], "cn": [cn], "sn": [sn], "sAMAccountName": [sam],
                  "userPrincipalName": [f"{sam}@moc.go.th"], id_attribute: [citizen_id]}
    optional = {"givenName": given, "displayName": display, "department": department,
                "title": title, "userAccountControl": None if uac is None else str(uac)}
    attributes.update({k: [v] for k, v in optional.items() if v is not None})
    if groups:
        attributes["memberOf"] = list(groups)
    expected = DirectoryEntry(
        sam_account_name=sam, user_principal_name=f"{sam}@moc.go.th", display_name=display,
        given_name=given, surname=sn, department=department, title=title,
        enabled=uac is not None and not uac & 2, member_of=tuple(groups))
    return {"citizen_id": citizen_id, "cn": cn, "attributes": attributes, "expected": expected}


PEOPLE = [
    person(ENABLED, "Somchai Jaidee", given="สมชาย", sn="ใจดี", display="สมชาย ใจดี",
           department="สำนักงานปลัดกระทรวงพาณิชย์", title="นักวิชาการพาณิชย์ชำนาญการ",
           groups=(f"cn=MOC-Staff,{GROUPS}", f"cn=IT (ทีมระบบ),{GROUPS}")),
    person(DISABLED, "Malee Srisuk", uac=514, given="มาลี", sn="ศรีสุข", department="กรมการค้าภายใน"),
    person(DISABLED_FLAGS, "Wichai Disabled", uac=66050, sn="ปิดบัญชี"),
    person(NO_EXPIRY, "Nipa Noexpiry", uac=66048, sn="รหัสไม่หมดอายุ", title="เจ้าพนักงานธุรการ"),
    person(NO_FLAGS, "Anong Noflags", uac=None, sn="ไม่มีสถานะ"),
    person(DUPLICATE, "Dup One", sn="ซ้ำหนึ่ง"),
    person(DUPLICATE, "Dup Two", sn="ซ้ำสอง"),
    person(SPECIAL, "O*Brien (IT) \\ admin", given="Ann*", sn="Nul\x00Name (x)",
           display="O*Brien (IT) \\ *)(uid=*", department="Dept (A*B)\\C"),
    person(FILTER_LIKE, "Filter Like", sn="ตัวกรอง"),
    person(EMPLOYEE_NUMBER, "Kanya Number", sn="หมายเลข", id_attribute="employeeNumber",
           department="ไม่ใช้"),
]
BY_ID = {p["citizen_id"]: p["expected"] for p in PEOPLE if p["citizen_id"] != EMPLOYEE_NUMBER}


def ldif_of(people) -> str:
    """LDIF for the people, every value base64 so Thai, metacharacters and NUL survive."""
    def line(name, value):
        return f"{name}:: {base64.b64encode(value.encode()).decode()}\n"

    records = []
    for p in people:
        record = line("dn", f"cn={escape_rdn(p['cn'])},{slapd_support.PEOPLE_DN}")
        for name, values in p["attributes"].items():
            record += "".join(line(name, v) for v in values)
        if p["citizen_id"] == EMPLOYEE_NUMBER:
            record += line("departmentNumber", "กองการเจ้าหน้าที่")
        records.append(record)
    return "\n".join(records) + "\n"


# --- fixtures ---------------------------------------------------------------------------------

def running_slapd(tmp_path_factory, **options):
    if slapd_support.slapd_binaries() is None:
        message = "slapd is not installed (Debian packages: slapd ldap-utils)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    return slapd_support.start_slapd(tmp_path_factory.mktemp("slapd"), ldif_of(PEOPLE), **options)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """A real slapd with an AD-like schema, PEOPLE, LDAPS and StartTLS; killed at teardown."""
    server = running_slapd(tmp_path_factory, tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_slapd(tmp_path_factory):
    """No TLS at all, and a server-side limit of one entry per search (a strict AD policy)."""
    server = running_slapd(tmp_path_factory, tls=False, size_limit=1)
    yield server
    server.stop()


def ldap_directory(url, *, password=slapd_support.SERVICE_PASSWORD, receive_timeout=3.0,
                   start_tls=False, ca_file="", **options):
    connect = LdapConnectionFactory(url, slapd_support.SERVICE_DN, password, connect_timeout=1.0,
                                    receive_timeout=receive_timeout, start_tls=start_tls,
                                    ca_file=ca_file)
    return LdapStaffDirectory(connect, slapd_support.PEOPLE_DN, **options)


def file_entries():
    return [{"citizen_id": p["citizen_id"], **asdict(p["expected"])} for p in PEOPLE
            if p["citizen_id"] != EMPLOYEE_NUMBER]


@pytest.fixture(params=["file", "ldap"])
def directory(request):
    if request.param == "file":
        return FileStaffDirectory(file_entries())
    return ldap_directory(request.getfixturevalue("slapd").url)


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted, stop = [], threading.Event()

    def hold():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for sock in accepted:
        sock.close()
    listener.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ldap://127.0.0.1:{sock.getsockname()[1]}"


def assert_no_citizen_id(error: BaseException, citizen_id: str) -> None:
    shown = "".join(traceback.format_exception(error)) + str(error) + repr(error)
    assert citizen_id not in shown


# --- the contract -----------------------------------------------------------------------------

def test_finds_enabled_account_with_names_department_title_and_groups(directory):
    assert directory.find_by_citizen_id(ENABLED) == BY_ID[ENABLED]
    assert BY_ID[ENABLED].enabled and len(BY_ID[ENABLED].member_of) == 2


@pytest.mark.parametrize("citizen_id", [DISABLED, DISABLED_FLAGS])
def test_account_disabled_by_user_account_control_is_found_not_enabled(directory, citizen_id):
    entry = directory.find_by_citizen_id(citizen_id)
    assert entry is not None and entry.enabled is False
    assert entry.surname == BY_ID[citizen_id].surname


def test_other_account_control_flags_leave_the_account_enabled(directory):
    assert directory.find_by_citizen_id(NO_EXPIRY) == BY_ID[NO_EXPIRY]
    assert BY_ID[NO_EXPIRY].enabled is True


def test_account_without_readable_account_control_counts_as_disabled(directory):
    entry = directory.find_by_citizen_id(NO_FLAGS)
    assert entry is not None and entry.enabled is False


def test_unknown_citizen_id_is_not_found(directory):
    assert directory.find_by_citizen_id(UNKNOWN) is None


def test_citizen_id_held_by_two_accounts_is_not_found_and_logged_without_it(directory, caplog):
    caplog.set_level(logging.DEBUG)
    assert directory.find_by_citizen_id(DUPLICATE) is None
    assert "more than one" in caplog.text
    assert DUPLICATE not in caplog.text


def test_names_with_filter_metacharacters_and_nul_come_back_intact(directory):
    entry = directory.find_by_citizen_id(SPECIAL)
    assert entry == BY_ID[SPECIAL]
    assert entry.surname == "Nul\x00Name (x)" and entry.display_name.endswith("*)(uid=*")


def test_stored_value_of_metacharacters_matches_only_itself(directory):
    assert directory.find_by_citizen_id(FILTER_LIKE) == BY_ID[FILTER_LIKE]
    assert directory.find_by_citizen_id("4*") is None


@pytest.mark.parametrize("attempt", [
    "*", ENABLED[:-1] + "*", "*" + ENABLED[1:], f"{ENABLED})(employeeID=*",
    f"{ENABLED})(|(employeeID=*)", f"*)(employeeID={ENABLED}", ENABLED + "\x00",
    f"{ENABLED}\x00)(employeeID=*", "\\2a", "",
], ids=["star", "prefix", "suffix", "and-all", "or-all", "close-open", "nul", "nul-and", "hex", "empty"])
def test_filter_injection_finds_nothing(directory, attempt):
    assert directory.find_by_citizen_id(attempt) is None


# --- LDAP only: failures, configuration ---------------------------------------------------------

def test_duplicate_cut_short_by_a_server_size_limit_is_still_not_found(strict_slapd):
    directory = ldap_directory(strict_slapd.url)
    assert directory.find_by_citizen_id(ENABLED) == BY_ID[ENABLED]
    assert directory.find_by_citizen_id(DUPLICATE) is None


def test_wrong_service_password_is_unavailable_not_not_found(slapd):
    directory = ldap_directory(slapd.url, password="not-the-password")
    with pytest.raises(ServiceUnavailable, match="bind refused") as caught:
        directory.find_by_citizen_id(ENABLED)
    assert_no_citizen_id(caught.value, ENABLED)


def counting_connections(directory: LdapStaffDirectory) -> list:
    """Wrap the directory's connection factory; the list grows by one per connection opened."""
    opened, connect = [], directory.connect
    directory.connect = lambda: opened.append(1) or connect()
    return opened


def test_closed_port_is_unavailable_at_once():
    directory = ldap_directory(closed_port_url())
    opened = counting_connections(directory)
    with pytest.raises(ServiceUnavailable, match="cannot connect") as caught:
        directory.find_by_citizen_id(ENABLED)
    assert opened == [1]  # one attempt: no retry after a refused connection
    assert_no_citizen_id(caught.value, ENABLED)


def test_silent_server_is_unavailable_within_the_receive_timeout(silent_server):
    directory = ldap_directory(silent_server, receive_timeout=1)
    opened = counting_connections(directory)
    with pytest.raises(ServiceUnavailable, match="LDAPSocketReceiveError") as caught:
        directory.find_by_citizen_id(ENABLED)
    assert opened == [1]  # the receive timeout ended the one attempt, and nothing was retried
    assert_no_citizen_id(caught.value, ENABLED)


def test_search_error_is_unavailable_and_never_shows_the_citizen_id(slapd, caplog):
    caplog.set_level(logging.DEBUG)
    connect = LdapConnectionFactory(slapd.url, slapd_support.SERVICE_DN, slapd_support.SERVICE_PASSWORD)
    directory = LdapStaffDirectory(connect, "ou=nowhere,dc=moc,dc=test")
    with pytest.raises(ServiceUnavailable, match="noSuchObject") as caught:
        directory.find_by_citizen_id(ENABLED)
    assert_no_citizen_id(caught.value, ENABLED)
    assert ENABLED not in caplog.text


def test_malformed_user_filter_is_unavailable_and_never_shows_the_citizen_id(slapd):
    directory = ldap_directory(slapd.url, user_filter="(objectClass=user")
    with pytest.raises(ServiceUnavailable, match="search failed") as caught:
        directory.find_by_citizen_id(ENABLED)
    assert_no_citizen_id(caught.value, ENABLED)


@pytest.mark.parametrize("dn, password", [("cn=x", ""), ("", "secret"), ("cn=x", None)])
def test_empty_bind_credentials_are_refused_before_any_bind(dn, password):
    with pytest.raises(ValueError, match="non-empty bind password"):
        LdapConnectionFactory("ldap://127.0.0.1:1", dn, password)


def test_start_tls_refused_by_the_server_fails_closed_instead_of_binding_in_clear(strict_slapd):
    directory = ldap_directory(strict_slapd.url, start_tls=True)
    with pytest.raises(ServiceUnavailable, match="StartTLS"):
        directory.find_by_citizen_id(ENABLED)


def test_ldaps_to_a_server_without_tls_fails_closed(slapd):
    url = slapd.url.replace("ldap://", "ldaps://")
    with pytest.raises(ServiceUnavailable, match="cannot connect"):
        ldap_directory(url).find_by_citizen_id(ENABLED)


def by_name(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")  # the name the server certificate carries


@pytest.mark.parametrize("how", ["ldaps", "start_tls"])
def test_tls_with_the_directory_ca_finds_the_account(slapd, how):
    url, start_tls = (slapd.ldaps_url, False) if how == "ldaps" else (slapd.url, True)
    directory = ldap_directory(by_name(url), start_tls=start_tls, ca_file=slapd.ca_file)
    assert directory.find_by_citizen_id(ENABLED) == BY_ID[ENABLED]


@pytest.mark.parametrize("how", ["ldaps", "start_tls"])
@pytest.mark.parametrize("trouble", ["untrusted-ca", "system-cas", "wrong-host"])
def test_tls_certificate_that_does_not_prove_the_server_is_refused(slapd, how, trouble):
    url, start_tls = (slapd.ldaps_url, False) if how == "ldaps" else (slapd.url, True)
    ca_file = {"untrusted-ca": slapd.other_ca_file, "system-cas": "", "wrong-host": slapd.ca_file}[trouble]
    directory = ldap_directory(url if trouble == "wrong-host" else by_name(url), start_tls=start_tls,
                               ca_file=ca_file)
    with pytest.raises(ServiceUnavailable):
        directory.find_by_citizen_id(ENABLED)


@pytest.mark.parametrize("url, options", [
    ("ldaps://ad.example", {"start_tls": True}),
    ("ldap://ad.example", {"use_ssl": True}),
])
def test_contradictory_tls_settings_are_refused(url, options):
    with pytest.raises(ValueError):
        LdapConnectionFactory(url, "cn=x", "secret", **options)


def test_attribute_names_are_checked():
    with pytest.raises(ValueError):
        LdapStaffDirectory(lambda: None, "dc=x", citizen_id_attribute="employeeID)(x=*")


def test_citizen_id_and_department_attributes_are_configurable(slapd):
    default = ldap_directory(slapd.url)
    assert default.find_by_citizen_id(EMPLOYEE_NUMBER) is None
    other = ldap_directory(slapd.url, citizen_id_attribute="employeeNumber",
                           department_attribute="departmentNumber")
    entry = other.find_by_citizen_id(EMPLOYEE_NUMBER)
    assert entry is not None and entry.department == "กองการเจ้าหน้าที่"


def test_config_table_builds_the_ldap_directory(slapd):
    directory = staff_directory_from_config({
        "BACKEND": "ldap", "URL": by_name(slapd.ldaps_url), "BIND_DN": slapd_support.SERVICE_DN,
        "BIND_PASSWORD": slapd_support.SERVICE_PASSWORD, "BASE_DN": slapd_support.SUFFIX,
        "USER_FILTER": "(objectClass=user)", "CITIZEN_ID_ATTRIBUTE": "employeeID",
        "DEPARTMENT_ATTRIBUTE": "department", "TITLE_ATTRIBUTE": "title", "START_TLS": False,
        "CA_FILE": slapd.ca_file, "CONNECT_TIMEOUT_SECONDS": 1, "RECEIVE_TIMEOUT_SECONDS": 2})
    assert isinstance(directory, LdapStaffDirectory)
    assert directory.find_by_citizen_id(ENABLED) == BY_ID[ENABLED]


def test_config_table_refuses_an_empty_bind_password():
    with pytest.raises(ValueError):
        staff_directory_from_config({"BACKEND": "ldap", "URL": "ldaps://ad.example",
                                     "BIND_DN": "cn=x", "BIND_PASSWORD": "", "BASE_DN": "dc=x"})


# --- the stand-in ----------------------------------------------------------------------------

def test_stand_in_from_config_reads_its_file_and_warns(tmp_path, caplog):
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(file_entries(), ensure_ascii=False), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="idp.verification.ad"):
        directory = staff_directory_from_config({"BACKEND": "file", "ENTRIES_FILE": str(path)})
    assert isinstance(directory, FileStaffDirectory)
    assert "stand-in" in caplog.text
    assert directory.find_by_citizen_id(SPECIAL) == BY_ID[SPECIAL]


def test_unknown_backend_is_refused():
    assert set(BACKENDS) == {"ldap", "file"}
    with pytest.raises(ValueError, match="BACKEND"):
        staff_directory_from_config({"BACKEND": "ad"})


def valid_citizen_id(value: str) -> bool:
    if not (value.isdigit() and len(value) == 13):
        return False
    digits = [int(c) for c in value]
    return (11 - sum(d * (13 - i) for i, d in enumerate(digits[:12])) % 11) % 10 == digits[12]


def test_sample_entries_load_and_carry_valid_citizen_ids():
    path = Path(__file__).parents[2] / "idp" / "verification" / "sample_data" / "ad_entries.json"
    entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
    assert entries and all(valid_citizen_id(e["citizen_id"]) for e in entries)
    directory = staff_directory_from_config({"BACKEND": "file", "ENTRIES_FILE": str(path)})
    assert all(directory.find_by_citizen_id(e["citizen_id"]).enabled == e["enabled"] for e in entries)
