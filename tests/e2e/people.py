"""The people the browser tests play, and the stand-in registers (DOPA, AD, DPIS) that know them.

One citizen ID backs at most one account, and the e2e IdP lives for the whole session, so each
test takes people of its own from a pool. The pool starts with the sample persons the guide
names (สมชาย ใจดี, found in AD; ประยูร มั่นคง, in DOPA only, with an unknown day and month of
birth) and goes on with fictional persons made here, whose citizen IDs carry valid check digits.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "idp" / "verification" / "sample_data"
BUDDHIST_ERA_OFFSET = 543
GIVEN_NAMES = ("มานี", "ปิติ", "ชูใจ", "วีระ", "ดวงใจ", "สุดา", "ประเสริฐ", "กานดา", "สมศักดิ์", "นงลักษณ์")
FAMILY_NAMES = ("มีสุข", "รักไทย", "ศรีสวัสดิ์", "แก้วใส", "ทองดี", "บุญมา", "พานิชย์", "สายสุวรรณ")

# How each kind of person is found: DOPA always; then AD (enabled), DPIS (in service), or neither.
KINDS = ("public", "ad", "dpis", "document")


def check_digit(first_twelve: str) -> str:
    """The 13th digit of a Thai citizen ID (mod 11 over weights 13..2)."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(first_twelve))
    return str((11 - total % 11) % 10)


@dataclass(frozen=True)
class Person:
    """Someone as on their ID card: the names, the citizen ID and the date of birth (CE)."""

    kind: str
    citizen_id: str
    given_name: str
    family_name: str
    birthdate: date
    card_birthdate: str  # as typed from the card, Buddhist era, 00 for an unknown day/month

    @property
    def signup_birthdate(self) -> str:
        """What the person types at signup, where only a full date is accepted."""
        return self.birthdate.strftime("%d/%m/") + str(self.birthdate.year + BUDDHIST_ERA_OFFSET)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _sample_people() -> list[Person]:
    return [
        Person("ad", "1101700230708", "สมชาย", "ใจดี", date(1985, 3, 14), "14/03/2528"),
        # born "2490-00-00": the card shows no day or month; signup needs a full date.
        Person("document", "5209900456784", "ประยูร", "มั่นคง", date(1947, 1, 1), "00/00/2490"),
    ]


def _made_people(count: int) -> list[Person]:
    people, names = [], itertools.cycle(itertools.product(GIVEN_NAMES, FAMILY_NAMES))
    for n in range(count):
        first_twelve = f"19{n:010d}"
        given, family = next(names)
        born = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
        card = born.strftime("%d/%m/") + str(born.year + BUDDHIST_ERA_OFFSET)
        people.append(Person(KINDS[n % len(KINDS)], first_twelve + check_digit(first_twelve),
                             given, family, born, card))
    return people


class People:
    """The pool: ``take(kind)`` hands out a person nobody in this session has used yet."""

    def __init__(self, made: int = 80):
        self.everyone = _sample_people() + _made_people(made)
        self._unused = list(self.everyone)

    def take(self, kind: str, *, made: bool = False) -> Person:
        """``made``: one of the fictional persons, leaving the guide's sample persons to the
        tests that play them."""
        samples = _sample_people() if made else []
        for person in self._unused:
            if person.kind == kind and person not in samples:
                self._unused.remove(person)
                return person
        raise LookupError(f"no {kind!r} person left in the e2e pool")

    def write_registers(self, folder: Path) -> dict:
        """The stand-ins' JSON files for everyone in the pool (plus the sample files' other
        persons); returns the IdP settings that name them."""
        folder.mkdir(parents=True, exist_ok=True)
        dopa = _sample(SAMPLE_DATA / "dopa_persons.json", "persons")
        ad = _sample(SAMPLE_DATA / "ad_entries.json", "entries")
        dpis = _sample(SAMPLE_DATA / "dpis_people.json", "people")
        known = {p["citizen_id"] for p in dopa}
        for person in self.everyone:
            if person.citizen_id not in known:
                dopa.append(_dopa_row(person))
                if person.kind == "ad":
                    ad.append(_ad_row(person))
                if person.kind == "dpis":
                    dpis.append(_dpis_row(person))
        files = {"dopa": folder / "dopa.json", "ad": folder / "ad.json", "dpis": folder / "dpis.json"}
        for key, rows in (("dopa", {"persons": dopa}), ("ad", {"entries": ad}), ("dpis", {"people": dpis})):
            files[key].write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        return {"DOPA": {"BACKEND": "file", "PERSONS_FILE": str(files["dopa"])},
                "AD": {"BACKEND": "file", "ENTRIES_FILE": str(files["ad"])},
                "DPIS": {"BACKEND": "file", "PEOPLE_FILE": str(files["dpis"])}}


def _sample(path: Path, key: str) -> list[dict]:
    return list(json.loads(path.read_text(encoding="utf-8"))[key])


def _dopa_row(person: Person) -> dict:
    return {"citizen_id": person.citizen_id, "first_name_th": person.given_name,
            "last_name_th": person.family_name, "birthdate": person.birthdate.isoformat(),
            "laser_code": "JT0000000000"}


def _ad_row(person: Person) -> dict:
    return {"citizen_id": person.citizen_id, "sam_account_name": f"e2e.{person.citizen_id[-6:]}",
            "user_principal_name": f"e2e.{person.citizen_id[-6:]}@moc.go.th",
            "display_name": person.name, "given_name": person.given_name,
            "surname": person.family_name, "department": "กรมการค้าภายใน",
            "title": "นักวิชาการพาณิชย์", "enabled": True,
            "member_of": ["CN=MOC-Staff,OU=Groups,DC=moc,DC=go,DC=th"]}


def _dpis_row(person: Person) -> dict:
    return {"citizen_id": person.citizen_id, "first_name": person.given_name,
            "last_name": person.family_name,
            "birthdate": f"{person.birthdate.year + BUDDHIST_ERA_OFFSET}-{person.birthdate:%m-%d}",
            "in_service": True, "position": "นักวิเคราะห์นโยบายและแผน",
            "organisation": "กรมพัฒนาธุรกิจการค้า"}
