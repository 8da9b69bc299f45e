"""``DopaSoapCitizenRegistry``: DOPA's own ``CheckCardByLaser`` check, SOAP 1.2 over HTTP POST.

Request (namespace ``http://tempuri.org/``): ``PID`` (the citizen ID), ``FirstName``,
``LastName``, ``BirthDay`` (Buddhist-era ``YYYYMMDD``, ``00`` for unknown parts), ``Laser``.
Answer: ``CheckCardByLaserResponse/CheckCardByLaserResult`` with ``IsError`` (true/false),
``Code`` (0 valid; 2 card no longer valid; 4 data or laser code mismatch; 5 missing input)
and ``Desc`` (Thai text, not used: it could echo the input).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import requests

from idp.outbound import HttpAnswer, OutboundClient, ServiceUnavailable, retry_policy
from idp.verification.dopa.role import (
    MAX_RETRIES,
    RESULTS_BY_CODE,
    VALID,
    AskingRegistry,
    CheckResult,
    DopaQuery,
)

SYSTEM = "DOPA (SOAP)"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI = "http://tempuri.org/"
ACTION = TEMPURI + "CheckCardByLaser"
CONTENT_TYPE = f'application/soap+xml; charset=utf-8; action="{ACTION}"'


class DopaSoapCitizenRegistry(AskingRegistry):
    """``CitizenRegistry`` over DOPA's SOAP service. Fails closed: a Fault, an unreadable or
    oversized answer, or an unknown code raises ``ServiceUnavailable``."""

    needs_laser_code = True

    def __init__(self, url: str, *, session: requests.Session,
                 timeout: tuple[float, float] = (3.0, 5.0), retries: int = MAX_RETRIES,
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url
        self._http = OutboundClient(SYSTEM, session, timeout=timeout, sleep=sleep,
                                    retry=retry_policy(min(retries, MAX_RETRIES), repeatable=True))

    def ask(self, query: DopaQuery) -> CheckResult:
        """The register's answer on ``query``: one ``CheckCardByLaser`` call."""
        answer = self._http.fetch("POST", self.url, data=envelope(query),
                            headers={"Content-Type": CONTENT_TYPE, "Accept": "application/soap+xml"})
        return _result(answer)


def envelope(query: DopaQuery) -> bytes:
    """The SOAP 1.2 request; ElementTree escapes every value (a name is never markup)."""
    # Prefixes spelled as in DOPA's published sample (soap12:, a default namespace on the
    # operation) rather than ElementTree's ns0:, ns1:: equivalent XML, and the shape the
    # service is known to take.
    root = ET.Element("soap12:Envelope", {"xmlns:soap12": SOAP12})
    operation = ET.SubElement(ET.SubElement(root, "soap12:Body"), "CheckCardByLaser",
                              {"xmlns": TEMPURI})
    for tag, value in (("PID", query.citizen_id), ("FirstName", query.first_name),
                       ("LastName", query.last_name), ("BirthDay", query.be_birthdate),
                       ("Laser", query.laser_code or "")):
        ET.SubElement(operation, tag).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _result(answer: HttpAnswer) -> CheckResult:
    if answer.status not in (200, 400, 500):  # SOAP 1.2 carries Faults in 400 and 500
        raise ServiceUnavailable(SYSTEM, f"answered HTTP {answer.status}")
    root = _parse(answer.body)
    body = root.find(f"{{{SOAP12}}}Body")
    if root.tag != f"{{{SOAP12}}}Envelope" or body is None:
        raise ServiceUnavailable(SYSTEM, "answer is not a SOAP 1.2 envelope")
    if body.find(f"{{{SOAP12}}}Fault") is not None or body.find(f"{{{SOAP11}}}Fault") is not None:
        raise ServiceUnavailable(SYSTEM, f"SOAP Fault (HTTP {answer.status})")
    if answer.status != 200:
        raise ServiceUnavailable(SYSTEM, f"HTTP {answer.status} without a SOAP Fault")
    is_error, code = _fields(body)
    if code == 0:
        if is_error:  # "valid" and "error" at once: not something to let a person through on
            raise ServiceUnavailable(SYSTEM, "IsError is true with code 0")
        return VALID
    if code in RESULTS_BY_CODE:
        return RESULTS_BY_CODE[code]
    raise ServiceUnavailable(SYSTEM, "unknown result code")


def _parse(raw: bytes) -> ET.Element:
    """The answer as XML, refusing any DTD: no entity of any kind is expanded or fetched."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceUnavailable(SYSTEM, "answer is not UTF-8") from None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ServiceUnavailable(SYSTEM, "answer carries a DTD")
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        raise ServiceUnavailable(SYSTEM, "answer is not XML") from None


def _fields(body: ET.Element) -> tuple[bool, int]:
    result = body.find(f"{{{TEMPURI}}}CheckCardByLaserResponse/{{{TEMPURI}}}CheckCardByLaserResult")
    if result is None:
        raise ServiceUnavailable(SYSTEM, "answer has no CheckCardByLaserResult")
    is_error = (result.findtext(f"{{{TEMPURI}}}IsError") or "").strip().lower()
    code = (result.findtext(f"{{{TEMPURI}}}Code") or "").strip()
    if is_error not in ("true", "false") or not (code.isascii() and code.isdigit()):
        raise ServiceUnavailable(SYSTEM, "answer lacks a readable IsError or Code")
    return is_error == "true", int(code)
