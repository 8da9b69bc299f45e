"""HrSystem contract: the file stand-in, SqlDpis on SQLite and PostgreSQL, and HttpDpis against a
DPIS-like web service on loopback.

DPIS's content is written once below (``ROWS``, as ``PER_PERSONAL`` rows) and fed to each
backend in its own shape; ``EXPECTED`` is what every backend must answer.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import traceback
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from idp.verification.dpis import (
    BACKENDS,
    FileHrSystem,
    HrRecord,
    HttpDpis,
    SqlDpis,
    hr_system_from_config,
    parse_birthdate,
)
from idp.verification.errors import ServiceUnavailable
from tests.support.dpis_http import DpisHttpServer

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TOKEN = "dpis-test-token"

IN_SERVICE_BE = "1101700230708"
IN_SERVICE_CE = "3100500123458"
OUT_OF_SERVICE = "5209900456784"
LEAP_DAY_BE = "9000000000071"
WITH_TIME = "9000000000080"
NO_DATE = "9000000000098"
REHIRED = "9000000000101"  # an old row out of service, a new row in service
TWICE_SERVING = "9000000000110"  # two rows in service: proves nothing
UNKNOWN = "9000000000128"
NO_NAME = "9000000000136"  # served over HTTP only: a record without a first name
NESTED = "9000000000144"  # served over HTTP only: a nested document

POSITIONS = {1: "นักวิชาการพาณิชย์ชำนาญการ", 2: "นักวิเคราะห์นโยบายและแผนปฏิบัติการ", 3: "เจ้าพนักงานธุรการ"}
ORGS = {10: "สำนักงานปลัดกระทรวงพาณิชย์", 20: "กรมการค้าภายใน", 30: "กรมทรัพย์สินทางปัญญา"}

# PER_CARDNO, PER_NAME, PER_SURNAME, PER_BIRTHDATE, PER_STATUS, POS_ID, ORG_ID
ROWS = [
    (IN_SERVICE_BE, "สมชาย   ", "ใจดี ", "2528-03-14", 1, 1, 10),  # CHAR padding, BE
    (IN_SERVICE_CE, "สมหญิง", "รักเรียน", "1972-11-02", 1, 2, 20),
    (OUT_OF_SERVICE, "ประยูร", "มั่นคง", "2490-01-15", 2, 3, 30),
    (LEAP_DAY_BE, "กมล", "อธิกสุรทิน", "2543-02-29", 1, 1, 20),
    (WITH_TIME, "ปรีชา", "เวลา", "2530-01-05 00:00:00", 1, None, 10),
    (NO_DATE, "อรุณ", "ไม่ทราบวัน", "0000-00-00", 1, 2, None),
    (REHIRED, "สุดา", "กลับมา", "2520-06-01", 2, 3, 30),
    (REHIRED, "สุดา", "กลับมา", "2520-06-01", 1, 1, 10),
    (TWICE_SERVING, "ซ้ำ", "สองแถว", "1980-01-01", 1, 1, 10),
    (TWICE_SERVING, "ซ้ำ", "สองแถว", "1980-01-01", 1, 2, 20),
]
EXPECTED = {
    IN_SERVICE_BE: HrRecord("สมชาย", "ใจดี", date(1985, 3, 14), True, POSITIONS[1], ORGS[10]),
    IN_SERVICE_CE: HrRecord("สมหญิง", "รักเรียน", date(1972, 11, 2), True, POSITIONS[2], ORGS[20]),
    OUT_OF_SERVICE: HrRecord("ประยูร", "มั่นคง", date(1947, 1, 15), False, POSITIONS[3], ORGS[30]),
    LEAP_DAY_BE: HrRecord("กมล", "อธิกสุรทิน", date(2000, 2, 29), True, POSITIONS[1], ORGS[20]),
    WITH_TIME: HrRecord("ปรีชา", "เวลา", date(1987, 1, 5), True, None, ORGS[10]),
    NO_DATE: HrRecord("อรุณ", "ไม่ทราบวัน", None, True, POSITIONS[2], None),
    REHIRED: HrRecord("สุดา", "กลับมา", date(1977, 6, 1), True, POSITIONS[1], ORGS[10]),
    TWICE_SERVING: None,
    UNKNOWN: None,
}
ALL_IDS = [*EXPECTED, NO_NAME, NESTED]

DDL = [
    'CREATE TABLE "PER_POSITION" ("POS_ID" INTEGER PRIMARY KEY, "POS_NAME" VARCHAR(200) NOT NULL)',
    'CREATE TABLE "PER_ORG" ("ORG_ID" INTEGER PRIMARY KEY, "ORG_NAME" VARCHAR(200) NOT NULL)',
    *(f'CREATE TABLE "{name}" ("PER_ID" INTEGER PRIMARY KEY, "PER_CARDNO" VARCHAR(13) NOT NULL, '
      f'"PER_NAME" VARCHAR(100), "PER_SURNAME" VARCHAR(100), "PER_BIRTHDATE" {kind}, '
      '"PER_STATUS" INTEGER, "POS_ID" INTEGER, "ORG_ID" INTEGER)'
      for name, kind in (("PER_PERSONAL", "VARCHAR(19)"), ("PERSONAL_DATES", "DATE"))),
]
# A DPIS that keeps birth dates in a DATE column, BE years and all, under other names.
DATE_ROWS = [(IN_SERVICE_BE, "สมชาย", "ใจดี", date(2528, 3, 14), 1, 1, 10),
             (IN_SERVICE_CE, "สมหญิง", "รักเรียน", date(1972, 11, 2), 1, 2, 20)]


def build_dpis(engine: sa.Engine) -> None:
    """The DPIS-shaped schema with quoted upper-case identifiers, and ROWS."""
    columns = '"PER_ID", "PER_CARDNO", "PER_NAME", "PER_SURNAME", "PER_BIRTHDATE", "PER_STATUS", ' \
              '"POS_ID", "ORG_ID"'
    person = f"({columns}) VALUES (:id, :card, :name, :surname, :birth, :status, :pos, :org)"
    keys = ("card", "name", "surname", "birth", "status", "pos", "org")
    with engine.begin() as connection:
        for statement in DDL:
            connection.execute(sa.text(statement))
        connection.execute(sa.text('INSERT INTO "PER_POSITION" VALUES (:id, :name)'),
                           [{"id": k, "name": v} for k, v in POSITIONS.items()])
        connection.execute(sa.text('INSERT INTO "PER_ORG" VALUES (:id, :name)'),
                           [{"id": k, "name": v} for k, v in ORGS.items()])
        for table, rows in (("PER_PERSONAL", ROWS), ("PERSONAL_DATES", DATE_ROWS)):
            connection.execute(sa.text(f'INSERT INTO "{table}" {person}'),
                               [{"id": i, **dict(zip(keys, row, strict=True))} for i, row in enumerate(rows)])


def file_people() -> list[dict]:
    return [{"citizen_id": card, "first_name": name, "last_name": surname, "birthdate": birth,
             "in_service": status == 1, "position": POSITIONS.get(pos), "organisation": ORGS.get(org)}
            for card, name, surname, birth, status, pos, org in ROWS]


def http_people() -> dict[str, dict]:
    """What a DPIS web service answers: one current record per person, DPIS's own key names."""
    people = {}
    for card, name, surname, birth, status, pos, org in ROWS:
        if card == TWICE_SERVING or (card in people and people[card]["PER_STATUS"] == 1):
            continue
        people[card] = {"PER_NAME": name, "PER_SURNAME": surname, "PER_BIRTHDATE": birth,
                        "PER_STATUS": status, "POS_NAME": POSITIONS.get(pos), "ORG_NAME": ORGS.get(org)}
    people[NO_NAME] = {**people[IN_SERVICE_CE], "PER_NAME": None}
    people[NESTED] = {"data": {"name": {"th": "สมหญิง", "family": "รักเรียน"},
                               "born": "2515-11-02", "active": True, "pos": "ผู้อำนวยการ", "org": None}}
    return people


# --- fixtures ---------------------------------------------------------------------------------

def unavailable(message: str):
    pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)


@pytest.fixture(scope="session")
def postgresql_url():
    """A uniquely named PostgreSQL database with the DPIS schema; dropped at teardown."""
    base = os.environ.get("IDP_TEST_DATABASE_URL", "")
    base = base if base.startswith("postgresql") else DEFAULT_POSTGRES
    name = f"dpis_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {sa.make_url(base).host}: {type(exc).__name__}")
    url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    builder = sa.create_engine(url)
    build_dpis(builder)
    with builder.begin() as connection:  # a view that takes its time, for the statement timeout
        connection.execute(sa.text('CREATE VIEW "SLOW_PERSONAL" AS SELECT p.* FROM "PER_PERSONAL" p, '
                                   'LATERAL (SELECT pg_sleep(3)) AS pause'))
    builder.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dpis') / 'dpis.sqlite3'}"
    builder = sa.create_engine(url)
    build_dpis(builder)
    builder.dispose()
    return url


@pytest.fixture(scope="session")
def dpis_server():
    server = DpisHttpServer(http_people(), TOKEN, slow_seconds=2.0).start()
    yield server
    server.stop()


def loopback_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and loopback
    return session


def http_dpis(server, prefix="", **options) -> HttpDpis:
    options = {"connect_timeout": 0.5, "read_timeout": 0.3, "retry_backoff": 0.01, **options}
    return HttpDpis(server.url + prefix, TOKEN, session=loopback_session(), **options)


@pytest.fixture(params=["file", "sqlite", "postgresql", "http"])
def hr_system(request):
    if request.param == "file":
        yield FileHrSystem(file_people())
    elif request.param == "http":
        yield http_dpis(request.getfixturevalue("dpis_server"), read_timeout=3)
    else:
        dpis = SqlDpis.from_url(request.getfixturevalue(f"{request.param}_url"))
        yield dpis
        dpis.engine.dispose()


def shown(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + str(error) + repr(error)


# --- the contract -----------------------------------------------------------------------------

def test_person_in_service_is_found_with_position_and_organisation_names(hr_system):
    assert hr_system.find_by_citizen_id(IN_SERVICE_BE) == EXPECTED[IN_SERVICE_BE]


def test_person_out_of_service_is_found_not_in_service(hr_system):
    record = hr_system.find_by_citizen_id(OUT_OF_SERVICE)
    assert record == EXPECTED[OUT_OF_SERVICE] and record.in_service is False


def test_unknown_citizen_id_is_not_found(hr_system):
    assert hr_system.find_by_citizen_id(UNKNOWN) is None


@pytest.mark.parametrize("citizen_id, born", [
    (IN_SERVICE_BE, date(1985, 3, 14)), (LEAP_DAY_BE, date(2000, 2, 29)),
    (IN_SERVICE_CE, date(1972, 11, 2)), (WITH_TIME, date(1987, 1, 5)),
], ids=["be", "be-leap-day", "ce", "with-time"])
def test_birth_dates_come_back_in_the_common_era(hr_system, citizen_id, born):
    assert hr_system.find_by_citizen_id(citizen_id).birthdate == born


def test_missing_position_or_organisation_is_none(hr_system):
    assert hr_system.find_by_citizen_id(WITH_TIME) == EXPECTED[WITH_TIME]
    assert hr_system.find_by_citizen_id(NO_DATE).organisation is None


def test_impossible_birth_date_is_none_and_logged_without_the_citizen_id(hr_system, caplog):
    caplog.set_level(logging.DEBUG)
    assert hr_system.find_by_citizen_id(NO_DATE) == EXPECTED[NO_DATE]
    assert "birth date" in caplog.text and NO_DATE not in caplog.text


def test_rehired_person_is_found_by_the_row_in_service(hr_system):
    assert hr_system.find_by_citizen_id(REHIRED) == EXPECTED[REHIRED]


def test_two_rows_in_service_prove_nothing(hr_system):
    assert hr_system.find_by_citizen_id(TWICE_SERVING) is None


def test_lookups_log_no_citizen_id_even_at_debug(hr_system, caplog):
    caplog.set_level(logging.DEBUG)
    for library in ("sqlalchemy", "urllib3"):  # SQLAlchemy quiets itself to WARNING by default
        caplog.set_level(logging.DEBUG, logger=library)
    for citizen_id in EXPECTED:
        hr_system.find_by_citizen_id(citizen_id)
    assert caplog.records  # the libraries did log: the lines just carry no citizen ID
    assert not [c for c in EXPECTED if c in caplog.text]


# --- birth dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2528-03-14", date(1985, 3, 14)), ("1985-03-14", date(1985, 3, 14)),
    ("2543-02-29", date(2000, 2, 29)), ("2542-02-29", None), ("2400-01-01", date(2400, 1, 1)),
    ("2401-01-01", date(1858, 1, 1)), ("2528-3-4", date(1985, 3, 4)),
    ("2528-03-14T00:00:00", date(1985, 3, 14)), (" 2528-03-14 ", date(1985, 3, 14)),
    (date(2528, 3, 14), date(1985, 3, 14)), (date(1985, 3, 14), date(1985, 3, 14)),
    ("0000-00-00", None), ("", None), (None, None), ("14/03/2528", None), ("garbage", None),
])
def test_parse_birthdate_reads_buddhist_and_common_era(value, expected):
    assert parse_birthdate(value) == expected


# --- SQL only -----------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def test_table_and_column_names_are_configurable_and_date_columns_are_read(sql_url):
    dpis = SqlDpis.from_url(sql_url, names={"PERSON_TABLE": "PERSONAL_DATES"})
    assert dpis.find_by_citizen_id(IN_SERVICE_BE) == EXPECTED[IN_SERVICE_BE]
    assert dpis.find_by_citizen_id(IN_SERVICE_CE) == EXPECTED[IN_SERVICE_CE]
    assert dpis.find_by_citizen_id(LEAP_DAY_BE) is None
    dpis.engine.dispose()


@pytest.mark.parametrize("made", ["from_url", "given_engine"])
def test_postgresql_lookups_run_in_read_only_transactions(postgresql_url, made):
    dpis = SqlDpis.from_url(postgresql_url) if made == "from_url" else \
        SqlDpis(sa.create_engine(postgresql_url, hide_parameters=True))
    with dpis.connect() as connection:
        assert connection.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            connection.execute(sa.text('INSERT INTO "PER_ORG" VALUES (99, \'written\')'))
    dpis.engine.dispose()


def test_sqlite_lookup_connections_cannot_write(sqlite_url):
    dpis = SqlDpis.from_url(sqlite_url)
    with dpis.connect() as connection, pytest.raises(sa.exc.DBAPIError, match="readonly"):
        connection.execute(sa.text('INSERT INTO "PER_ORG" VALUES (99, \'written\')'))
    dpis.engine.dispose()


def test_engine_that_would_log_parameters_is_refused(sqlite_url):
    with pytest.raises(ValueError, match="hide_parameters"):
        SqlDpis(sa.create_engine(sqlite_url))


def test_unknown_name_keys_are_refused(sqlite_url):
    with pytest.raises(ValueError, match="NAMES"):
        SqlDpis.from_url(sqlite_url, names={"PERSON": "X"})


def test_statement_timeout_is_unavailable(postgresql_url):
    dpis = SqlDpis.from_url(postgresql_url, statement_timeout=0.2, names={"PERSON_TABLE": "SLOW_PERSONAL"})
    with pytest.raises(ServiceUnavailable, match="QueryCanceled") as caught:  # the server cut it
        dpis.find_by_citizen_id(IN_SERVICE_BE)
    assert IN_SERVICE_BE not in shown(caught.value)
    dpis.engine.dispose()


def test_unreachable_database_is_unavailable_at_once():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dpis = SqlDpis.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{port}/dpis", connect_timeout=1)
    attempts = []
    sa.event.listen(dpis.engine, "do_connect", lambda *args: attempts.append(1))
    with pytest.raises(ServiceUnavailable, match="OperationalError"):
        dpis.find_by_citizen_id(IN_SERVICE_BE)
    assert attempts == [1]  # one try, no retry loop around a database that is not there


def test_missing_table_is_unavailable_not_not_found(sqlite_url):
    dpis = SqlDpis.from_url(sqlite_url, names={"POSITION_TABLE": "NO_SUCH_TABLE"})
    with pytest.raises(ServiceUnavailable, match="database error") as caught:
        dpis.find_by_citizen_id(IN_SERVICE_BE)
    assert IN_SERVICE_BE not in shown(caught.value)


def test_database_error_quoting_the_value_never_shows_the_citizen_id(postgresql_url, caplog):
    # Comparing an integer column with the citizen ID makes PostgreSQL quote the value back.
    caplog.set_level(logging.DEBUG)
    dpis = SqlDpis.from_url(postgresql_url, names={"CITIZEN_ID": "PER_STATUS"})
    with pytest.raises(ServiceUnavailable) as caught:
        dpis.find_by_citizen_id(IN_SERVICE_BE + "x")
    assert IN_SERVICE_BE not in shown(caught.value)
    assert IN_SERVICE_BE not in caplog.text
    dpis.engine.dispose()


# --- HTTP only ----------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix, reason", [
    ("/500", "HTTP 500"), ("/503", "HTTP 503"), ("/redirect", "HTTP 302"),
    ("/malformed", "not JSON"), ("/list", "lacks"),
    ("/oversized", "larger than"), ("/oversized-chunked", "larger than"),
])
def test_bad_answers_are_unavailable_and_not_retried(dpis_server, prefix, reason):
    before = dpis_server.hits[prefix.strip("/")]
    with pytest.raises(ServiceUnavailable, match=reason) as caught:
        http_dpis(dpis_server, prefix).find_by_citizen_id(IN_SERVICE_BE)
    assert dpis_server.hits[prefix.strip("/")] == before + 1
    assert IN_SERVICE_BE not in shown(caught.value)


def test_answer_slower_than_the_read_timeout_is_unavailable_and_not_retried(dpis_server):
    before = dpis_server.hits["slow"]
    with pytest.raises(ServiceUnavailable, match="ReadTimeout after 1 attempt") as caught:
        http_dpis(dpis_server, "/slow").find_by_citizen_id(IN_SERVICE_BE)
    assert dpis_server.hits["slow"] == before + 1
    assert IN_SERVICE_BE not in shown(caught.value)


def test_answer_dripping_past_the_deadline_is_unavailable(dpis_server):
    before = dpis_server.hits["drip"]
    with pytest.raises(ServiceUnavailable, match="too slow"):  # cut by the body deadline
        http_dpis(dpis_server, "/drip").find_by_citizen_id(IN_SERVICE_BE)
    assert dpis_server.hits["drip"] == before + 1


def test_connection_dropped_without_answer_is_retried_then_unavailable(dpis_server):
    before = dpis_server.hits["close"]
    with pytest.raises(ServiceUnavailable, match="ConnectionError") as caught:
        http_dpis(dpis_server, "/close", retries=2).find_by_citizen_id(IN_SERVICE_BE)
    assert dpis_server.hits["close"] == before + 3
    assert IN_SERVICE_BE not in shown(caught.value)


def test_closed_port_is_unavailable_at_once():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sleeps = []
    with pytest.raises(ServiceUnavailable, match="ConnectionError after 3 attempt") as caught:
        HttpDpis(url, TOKEN, session=loopback_session(), retry_backoff=0.01,
                 sleep=sleeps.append).find_by_citizen_id(IN_SERVICE_BE)
    assert sleeps == [0.01, 0.02]  # two short pauses, nothing else waited on
    assert IN_SERVICE_BE not in shown(caught.value)


def test_wrong_token_is_unavailable_not_not_found(dpis_server):
    dpis = HttpDpis(dpis_server.url, "wrong", session=loopback_session())
    with pytest.raises(ServiceUnavailable, match="HTTP 401"):
        dpis.find_by_citizen_id(IN_SERVICE_BE)


def test_record_without_a_first_name_is_unavailable(dpis_server):
    with pytest.raises(ServiceUnavailable, match="first_name"):
        http_dpis(dpis_server).find_by_citizen_id(NO_NAME)


def test_record_lacking_a_mapped_field_is_unavailable(dpis_server):
    fields = {"PER_NAME": "first_name", "PER_SURNAME": "last_name", "PER_BIRTHDATE": "birthdate",
              "PER_STATUS_CODE": "in_service", "POS_NAME": "position", "ORG_NAME": "organisation"}
    with pytest.raises(ServiceUnavailable, match="PER_STATUS_CODE"):
        http_dpis(dpis_server, fields=fields).find_by_citizen_id(IN_SERVICE_BE)


def test_nested_field_mapping_and_path_template(dpis_server):
    fields = {"data.name.th": "first_name", "data.name.family": "last_name", "data.born": "birthdate",
              "data.active": "in_service", "data.pos": "position", "data.org": "organisation"}
    dpis = http_dpis(dpis_server, fields=fields, path_template="/people/{citizen_id}")
    assert dpis.find_by_citizen_id(NESTED) == HrRecord(
        "สมหญิง", "รักเรียน", date(1972, 11, 2), True, "ผู้อำนวยการ", None)


def test_citizen_id_cannot_leave_its_path_segment(dpis_server):
    assert http_dpis(dpis_server).find_by_citizen_id("../people/" + IN_SERVICE_BE) is None
    assert dpis_server.paths[-1] == f"/people/..%2Fpeople%2F{IN_SERVICE_BE}"


@pytest.mark.parametrize("token, options, match", [
    ("", {}, "token"), (TOKEN, {"path_template": "/people"}, "citizen_id"),
    (TOKEN, {"fields": {"PER_NAME": "first_name"}}, "FIELDS"),
])
def test_incomplete_http_settings_are_refused(token, options, match):
    with pytest.raises(ValueError, match=match):
        HttpDpis("http://127.0.0.1:1", token, **options)


# --- configuration and the stand-in -----------------------------------------------------------

def test_config_tables_build_each_backend(tmp_path, sqlite_url, dpis_server, caplog):
    people = tmp_path / "people.json"
    people.write_text(json.dumps(file_people(), ensure_ascii=False), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="idp.verification.dpis"):
        stand_in = hr_system_from_config({"BACKEND": "file", "PEOPLE_FILE": str(people)})
    assert "stand-in" in caplog.text
    sql = hr_system_from_config({"BACKEND": "sql", "DATABASE_URL": sqlite_url, "SCHEMA": "",
                                 "NAMES": {"PERSON_TABLE": "PER_PERSONAL"},
                                 "CONNECT_TIMEOUT_SECONDS": 2, "STATEMENT_TIMEOUT_SECONDS": 2})
    http = hr_system_from_config({"BACKEND": "http", "BASE_URL": dpis_server.url, "TOKEN": TOKEN,
                                  "PATH_TEMPLATE": "/people/{citizen_id}", "CONNECT_TIMEOUT_SECONDS": 1,
                                  "READ_TIMEOUT_SECONDS": 2, "MAX_RESPONSE_BYTES": 4096, "RETRIES": 0,
                                  "CA_FILE": ""})
    http.session.trust_env = False
    assert [type(x) for x in (stand_in, sql, http)] == [FileHrSystem, SqlDpis, HttpDpis]
    for system in (stand_in, sql, http):
        assert system.find_by_citizen_id(REHIRED) == EXPECTED[REHIRED]


def test_unknown_backend_is_refused():
    assert BACKENDS == {"sql": SqlDpis, "http": HttpDpis, "file": FileHrSystem}
    with pytest.raises(ValueError, match="BACKEND"):
        hr_system_from_config({"BACKEND": "oracle"})


def valid_citizen_id(value: str) -> bool:
    if not (value.isdigit() and len(value) == 13):
        return False
    digits = [int(c) for c in value]
    return (11 - sum(d * (13 - i) for i, d in enumerate(digits[:12])) % 11) % 10 == digits[12]


def test_test_and_sample_citizen_ids_carry_valid_check_digits():
    path = Path(__file__).parents[2] / "idp" / "verification" / "sample_data" / "dpis_people.json"
    people = json.loads(path.read_text(encoding="utf-8"))["people"]
    assert all(valid_citizen_id(c) for c in [*ALL_IDS, *(p["citizen_id"] for p in people)])
    stand_in = hr_system_from_config({"BACKEND": "file", "PEOPLE_FILE": str(path)})
    assert [stand_in.find_by_citizen_id(p["citizen_id"]).in_service for p in people] == \
        [p["in_service"] for p in people]
