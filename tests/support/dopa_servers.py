"""Loopback HTTP servers that speak DOPA's two wire formats, for the contract tests.

``GdxServer`` answers the DGA GDX REST check (token from ``/ws/auth/validate``, the check at
``/ws/dopa/verification/personal``); ``DopaSoapServer`` answers ``CheckCardByLaser`` in SOAP 1.2.
Both look persons up in an in-memory table, record every request, and can be told to misbehave:
answer a given DOPA code, a canned status and body (malformed, oversized, a Fault), answer
slowly, or (GDX) forget the tokens it issued so the next check gets a 401.
"""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from idp.verification.citizen_id import buddhist_birthdate, parse_partial_date

LOOPBACK = "127.0.0.1"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TEMPURI = "http://tempuri.org/"
SOAP_PATH = "/CheckCardStatus/CheckCardService.asmx"


@dataclass(frozen=True)
class RegistryPerson:
    """One person as DOPA holds them: names without title, birth date as BE YYYYMMDD."""

    citizen_id: str
    first_name: str
    last_name: str
    be_birthdate: str
    laser_code: str
    card_expired: bool = False

    @classmethod
    def from_entry(cls, entry: dict) -> RegistryPerson:
        """From an entry in the stand-in's file format (CE ``YYYY-MM-DD``)."""
        return cls(entry["citizen_id"], entry["first_name_th"], entry["last_name_th"],
                   buddhist_birthdate(parse_partial_date(entry["birthdate"])),
                   entry["laser_code"], entry.get("card_expired", False))


@dataclass(frozen=True)
class Canned:
    """A fixed answer: status, body, headers, whether to send a Content-Length, and whether to
    trickle the body out in ``pieces`` with ``pause_seconds`` between them."""

    status: int
    body: bytes
    content_type: str = "application/json"
    content_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    pieces: int = 1
    pause_seconds: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    content_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    pieces: int = 1
    pause_seconds: float = 0.0

    @classmethod
    def of(cls, canned: Canned) -> Answer:
        return cls(canned.status, canned.body, canned.content_type, canned.content_length,
                   canned.headers, canned.pieces, canned.pause_seconds)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        url = urlsplit(self.path)
        request = Recorded(self.command, url.path,
                           {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
                           {k: v for k, v in self.headers.items()}, self.rfile.read(length))
        answer = self.server.fake.handle(request)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.content_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            size = -(-len(answer.body) // answer.pieces)
            for start in range(0, len(answer.body), size or 1):
                if start:
                    time.sleep(answer.pause_seconds)
                self.wfile.write(answer.body[start:start + size])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def log_message(self, format, *args):  # the request line holds the citizen ID: no stderr
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeDopa


class FakeDopa:
    """What both fakes share: the persons, the request log, the switchable behaviours."""

    check_path = "/"

    def __init__(self, persons: list[RegistryPerson] = ()):
        self.persons = {person.citizen_id: person for person in persons}
        self.requests: list[Recorded] = []
        self.queue: deque[Canned] = deque()  # answers for the next check requests, in order
        self.always: Canned | None = None  # the answer to every check request
        self.delay_seconds = 0.0  # before answering a check request
        self._lock = threading.Lock()
        self._server = _Server((LOOPBACK, 0), _Handler)
        self._server.fake = self
        # A short poll keeps stop() quick: shutdown() waits for the loop to look at its flag.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                        daemon=True, name=type(self).__name__)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def checks(self) -> list[Recorded]:
        """The check requests received (not the token requests)."""
        return [request for request in self.requests if request.path == self.check_path]

    def then_answer(self, *answers: Canned) -> None:
        """Answer the next check requests with ``answers``, then as usual."""
        self.queue.extend(answers)

    def handle(self, request: Recorded) -> Answer:
        with self._lock:
            self.requests.append(request)
        if request.path != self.check_path:
            return self.other(request)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        canned = self.queue.popleft() if self.queue else self.always
        if canned is not None:
            return Answer.of(canned)
        return self.check(request)

    def other(self, request: Recorded) -> Answer:
        return Answer(404, b"not found", "text/plain")

    def check(self, request: Recorded) -> Answer:
        raise NotImplementedError

    def lookup(self, cid, first, last, birthday, laser) -> int:
        """DOPA's code for these values: 5 missing, 4 mismatch or unknown, 2 expired, 0 valid."""
        if not all((cid, first, last, birthday, laser)):
            return 5
        person = self.persons.get(cid)
        if person is None or (first, last, birthday, laser) != (
                person.first_name, person.last_name, person.be_birthdate, person.laser_code):
            return 4
        return 2 if person.card_expired else 0


class GdxServer(FakeDopa):
    """The GDX REST check, with the Consumer-Key / ConsumerSecret / AgentID it expects."""

    check_path = "/ws/dopa/verification/personal"
    token_path = "/ws/auth/validate"

    def __init__(self, persons=(), *, consumer_key="test-key", consumer_secret="test-secret",
                 agent_id="3100500123458"):
        self.consumer_key, self.consumer_secret, self.agent_id = consumer_key, consumer_secret, agent_id
        self.tokens: set[str] = set()
        self.token_answer: Canned | None = None  # a fixed answer to token requests
        super().__init__(persons)

    def token_requests(self) -> list[Recorded]:
        return [request for request in self.requests if request.path == self.token_path]

    def expire_tokens(self) -> None:
        """Forget every token issued, as GDX does after 60 idle minutes."""
        self.tokens.clear()

    def answer_code(self, code: int, key: str = "Code") -> None:
        """Answer every check with DOPA's ``code``: ``Result: true`` for 0, else HTTP 500."""
        if code == 0:
            self.always = Canned(200, json.dumps({"Result": True}).encode())
        else:
            self.always = Canned(500, json.dumps({key: code, "Message": f"code {code}"}).encode())

    def other(self, request: Recorded) -> Answer:
        if request.path != self.token_path:
            return super().other(request)
        if self.token_answer is not None:
            return Answer.of(self.token_answer)
        if (request.headers.get("Consumer-Key"), request.query.get("ConsumerSecret"),
                request.query.get("AgentID")) != (self.consumer_key, self.consumer_secret, self.agent_id):
            return _json(401, {"Message": "invalid consumer"})
        token = f"token-{len(self.token_requests())}"
        self.tokens.add(token)
        return _json(200, {"Result": token})

    def check(self, request: Recorded) -> Answer:
        if request.headers.get("Consumer-Key") != self.consumer_key or \
                request.headers.get("Token") not in self.tokens:
            return _json(401, {"Message": "token expired or invalid"})
        q = request.query
        code = self.lookup(q.get("CitizenID"), q.get("FirstName"), q.get("LastName"),
                           q.get("BEBirthDate"), q.get("LaserCode"))
        if code in (0, 4):
            return _json(200, {"Result": code == 0})
        return _json(500, {"Code": code, "Message": f"code {code}"})


class DopaSoapServer(FakeDopa):
    """DOPA's CheckCardByLaser over SOAP 1.2."""

    check_path = SOAP_PATH

    def answer_code(self, code: int, is_error: bool | None = None) -> None:
        """Answer every check with ``code`` (IsError true unless the code is 0)."""
        self.always = Canned(200, soap_result(code, code != 0 if is_error is None else is_error),
                             "application/soap+xml; charset=utf-8")

    def check(self, request: Recorded) -> Answer:
        try:
            operation = ET.fromstring(request.body).find(
                f"{{{SOAP12}}}Body/{{{TEMPURI}}}CheckCardByLaser")
        except ET.ParseError:
            operation = None
        if operation is None or "application/soap+xml" not in request.headers.get("Content-Type", ""):
            return Answer(400, soap_fault("soap:Sender", "bad request"), "application/soap+xml")
        values = [operation.findtext(f"{{{TEMPURI}}}{name}") for name in
                  ("PID", "FirstName", "LastName", "BirthDay", "Laser")]
        code = self.lookup(*values)
        return Answer(200, soap_result(code, code != 0), "application/soap+xml; charset=utf-8")


def _json(status: int, body: dict) -> Answer:
    return Answer(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")


def soap_result(code: int, is_error: bool, desc: str = "") -> bytes:
    """A CheckCardByLaserResponse envelope."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Body>'
        f'<CheckCardByLaserResponse xmlns="{TEMPURI}"><CheckCardByLaserResult>'
        f"<IsError>{str(is_error).lower()}</IsError><ErrorMessage></ErrorMessage>"
        f"<Code>{code}</Code><Desc>{desc or 'code ' + str(code)}</Desc>"
        "</CheckCardByLaserResult></CheckCardByLaserResponse></soap:Body></soap:Envelope>"
    ).encode()


def soap_fault(code: str = "soap:Receiver", reason: str = "Server was unable to process request.") -> bytes:
    """A SOAP 1.2 Fault envelope."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12}"><soap:Body>'
        f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="en">{reason}</soap:Text></soap:Reason></soap:Fault>'
        "</soap:Body></soap:Envelope>"
    ).encode()
