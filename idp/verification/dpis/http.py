"""``HttpDpis``: DPIS as a JSON web service, ``GET`` one person, through ``idp.outbound``.

Keys (``BACKEND = "http"``): ``BASE_URL``; ``TOKEN`` (sent as ``Authorization: Bearer``;
required); ``PATH_TEMPLATE`` (default ``/people/{citizen_id}``); ``FIELDS`` (optional table:
JSON key, dotted for nested objects, → ``HrRecord`` field; default ``DEFAULT_FIELDS``);
``CONNECT_TIMEOUT_SECONDS`` (3), ``READ_TIMEOUT_SECONDS`` (5, also bounds the whole body);
``MAX_RESPONSE_BYTES`` (262144); ``RETRIES`` (2, connection errors only); ``CA_FILE`` (PEM
bundle to verify the service's certificate; ``""`` = system CAs).

Only failures to connect are retried (``retry_policy(repeatable=False)``): the request may not
have reached DPIS. A timeout or an error answer is final, so a struggling service is not
hammered. urllib3's request lines lose the citizen ID in the path (``outbound.RedactUrls``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

import requests

from idp.outbound import OutboundClient, ServiceUnavailable, retry_policy
from idp.verification.dpis.role import SYSTEM, HrRecord, hr_record

DEFAULT_FIELDS = {
    "PER_NAME": "first_name", "PER_SURNAME": "last_name", "PER_BIRTHDATE": "birthdate",
    "PER_STATUS": "in_service", "POS_NAME": "position", "ORG_NAME": "organisation",
}


class HttpDpis:
    """``HrSystem`` over a DPIS web service: ``GET`` one person as a JSON object."""

    def __init__(self, base_url: str, token: str, *, session: requests.Session | None = None,
                 path_template: str = "/people/{citizen_id}", fields: Mapping[str, str] | None = None,
                 connect_timeout: float = 3, read_timeout: float = 5, max_bytes: int = 256 * 1024,
                 retries: int = 2, retry_backoff: float = 0.1, ca_file: str = "",
                 sleep: Callable[[float], None] = time.sleep):
        if not token:
            raise ValueError("the DPIS web service needs a bearer token")
        if "{citizen_id}" not in path_template:
            raise ValueError("PATH_TEMPLATE must contain {citizen_id}")
        self.fields = dict(fields or DEFAULT_FIELDS)
        if sorted(self.fields.values()) != sorted(f.name for f in dataclasses.fields(HrRecord)):
            raise ValueError("FIELDS must map a JSON key to each HrRecord field, once")
        self.base_url, self.path_template, self._token = base_url.rstrip("/"), path_template, token
        self._verify = {"verify": ca_file} if ca_file else {}
        self._http = OutboundClient(
            SYSTEM, session, timeout=(connect_timeout, read_timeout), max_body_bytes=max_bytes,
            retry=retry_policy(max(0, retries), repeatable=False, backoff=retry_backoff), sleep=sleep)

    @property
    def session(self) -> requests.Session:
        """The HTTP session the lookups go through."""
        return self._http.http

    @classmethod
    def from_config(cls, table: Mapping) -> HttpDpis:
        """From a ``[DPIS]`` table with ``BACKEND = "http"`` (keys in the module docstring)."""
        return cls(table["BASE_URL"], table.get("TOKEN", ""),
                   path_template=table.get("PATH_TEMPLATE", "/people/{citizen_id}"),
                   fields=table.get("FIELDS"), ca_file=table.get("CA_FILE", ""),
                   connect_timeout=float(table.get("CONNECT_TIMEOUT_SECONDS", 3)),
                   read_timeout=float(table.get("READ_TIMEOUT_SECONDS", 5)),
                   max_bytes=int(table.get("MAX_RESPONSE_BYTES", 256 * 1024)),
                   retries=int(table.get("RETRIES", 2)))

    def find_by_citizen_id(self, citizen_id: str) -> HrRecord | None:
        """See ``HrSystem.find_by_citizen_id``."""
        if not citizen_id:
            return None
        path = self.path_template.format(citizen_id=quote(citizen_id, safe=""))
        answer = self._http.fetch("GET", self.base_url + path, **self._verify, headers={
            "Authorization": f"Bearer {self._token}", "Accept": "application/json"})
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise ServiceUnavailable(SYSTEM, f"answered HTTP {answer.status}")
        return self._parse(answer.body)

    def _parse(self, body: bytes) -> HrRecord:
        try:
            document = json.loads(body)
        except ValueError:
            raise ServiceUnavailable(SYSTEM, "answer is not JSON") from None
        values = {field: _lookup(document, key) for key, field in self.fields.items()}
        for name in ("first_name", "last_name"):
            if not isinstance(values[name], str):
                raise ServiceUnavailable(SYSTEM, f"answer has no usable {name}")
        return hr_record(values["first_name"], values["last_name"], values["birthdate"],
                       values["in_service"], values["position"], values["organisation"])


def _lookup(document, dotted_key: str):
    """``document["a"]["b"]`` for ``"a.b"``; ``ServiceUnavailable`` when a key is missing."""
    value = document
    for key in dotted_key.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ServiceUnavailable(SYSTEM, f"answer lacks {dotted_key!r}")
        value = value[key]
    return value
