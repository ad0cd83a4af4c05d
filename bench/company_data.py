"""A generator of German business customers as two source systems hold them, with
their true identity and their true parent.

- head offices (GmbH, AG, GmbH & Co. KG, KG, e.K., UG, eG, ...) with register entry,
  VAT id, website and an address, some of them in business parks that many companies
  share;
- subsidiaries: companies of their own (own register entry and VAT id) whose parent is
  a head office; some have subsidiaries of their own;
- branches ("Niederlassung Köln"): the head office's legal entity and VAT id at
  another address; they are not their head office and must not merge with it;
- the ERP holds every company once, cleanly, with its parent's record id; the CRM
  holds about 60 % of them again with typos, umlauts written out ("Mueller"), the legal
  form written otherwise ("G.m.b.H.", "mbH") or left out, an old name (renamed
  companies), an old legal form (GmbH -> AG), a business e-mail instead of the website,
  and the parent by its VAT id.

Each record is a dict in the shape ``mdm import --kind company`` reads, plus ``truth``
(the real company) and ``parentTruth`` (its real parent, None for the top). Only the
benchmarks read those two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from stdnum.iso7064 import mod_11_10

Record = dict[str, Any]

_STEMS = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Nordlicht",
    "Alpenblick",
    "Rheintal",
    "Elbufer",
    "Sonnenhof",
    "Brückner",
    "Färber",
]
_TRADES = [
    "Maschinenbau",
    "Logistik",
    "Bau",
    "Elektrotechnik",
    "Software",
    "Consulting",
    "Immobilien",
    "Metallbau",
    "Druckerei",
    "Autohaus",
    "Spedition",
    "Haustechnik",
    "Medizintechnik",
    "Lebensmittel",
    "Gebäudereinigung",
    "Steuerberatung",
    "Holzbau",
]
_QUALIFIERS = [
    "Nord",
    "Süd",
    "West",
    "Ost",
    "Rhein-Main",
    "Bayern",
    "Sachsen",
    "Berlin",
    "Hamburg",
    "Ruhr",
    "Franken",
    "Schwaben",
    "Service",
    "Systeme",
    "Technik",
    "Handel",
    "Partner",
    "Holding",
    "International",
    "Solutions",
]
_FORMS = [
    "GmbH",
    "GmbH",
    "GmbH",
    "AG",
    "GmbH & Co. KG",
    "KG",
    "e.K.",
    "UG (haftungsbeschränkt)",
    "eG",
    "OHG",
]
_WRITTEN = {
    "GmbH": ["G.m.b.H.", "mbH", "Gmbh", ""],
    "AG": ["Aktiengesellschaft", "A.G.", ""],
    "GmbH & Co. KG": ["GmbH u. Co. KG", "GmbH + Co KG", ""],
    "KG": ["K.G.", ""],
    "e.K.": ["e. Kfm.", ""],
    "UG (haftungsbeschränkt)": ["UG", ""],
    "eG": [""],
    "OHG": ["o.H.G.", ""],
}
_CITIES = [
    ("10115", "Berlin", "Charlottenburg"),
    ("20095", "Hamburg", "Hamburg"),
    ("80331", "München", "München"),
    ("50667", "Köln", "Köln"),
    ("01067", "Dresden", "Dresden"),
    ("60311", "Frankfurt am Main", "Frankfurt am Main"),
    ("70173", "Stuttgart", "Stuttgart"),
    ("04109", "Leipzig", "Leipzig"),
    ("90402", "Nürnberg", "Nürnberg"),
    ("28195", "Bremen", "Bremen"),
]
_STREETS = [
    "Industriestraße",
    "Hauptstraße",
    "Gewerbering",
    "Am Hafen",
    "Bahnhofstraße",
    "Robert-Bosch-Straße",
    "Carl-Benz-Straße",
    "Siemensstraße",
]
_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


@dataclass
class _Company:
    truth: str
    name: str
    form: str
    register: str
    court: str
    vat: str
    street: str
    house: str
    postal: str
    city: str
    domain: str
    parent: _Company | None = None
    old_name: str | None = None
    old_form: str | None = None
    erp_id: str = ""
    children: list[_Company] = field(default_factory=list)


def _vat(rng: random.Random) -> str:
    digits = str(rng.randrange(10**7, 10**8))
    return "DE" + digits + mod_11_10.calc_check_digit(digits)


def _slug(name: str) -> str:
    return "".join(c for c in name.lower().translate(_UMLAUTS) if c.isalnum() or c == " ").replace(
        " ", "-"
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 5:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1 :]  # a letter left out
    if kind < 0.7:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # two swapped
    return text[:i] + text[i] + text[i:]  # a letter doubled


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.companies: list[_Company] = []
        self.names: set[str] = set()
        self.parks = [self._address() for _ in range(20)]

    def _address(self) -> tuple[str, str, str, str, str]:
        postal, city, court = self.rng.choice(_CITIES)
        return self.rng.choice(_STREETS), str(self.rng.randint(1, 120)), postal, city, court

    def _name(self) -> str:
        """A name no other company has: stem and trade, then a region or a partner's
        stem where the short names run out."""
        for attempt in range(1_000_000):
            name = f"{self.rng.choice(_STEMS)} {self.rng.choice(_TRADES)}"
            if attempt > 20 or self.rng.random() < 0.3:
                name += f" {self.rng.choice(_QUALIFIERS)}"
            if attempt > 200:
                name = f"{self.rng.choice(_STEMS)} & {name}"
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("no unused company name left")

    def company(self, parent: _Company | None = None) -> _Company:
        street, house, postal, city, court = (
            self.rng.choice(self.parks) if self.rng.random() < 0.15 else self._address()
        )
        name = self._name()
        found = _Company(
            truth=f"k{len(self.companies)}",
            name=name,
            form=self.rng.choice(_FORMS),
            register=f"HR{self.rng.choice('ABBBB')} {self.rng.randint(1000, 299999)}",
            court=court,
            vat=_vat(self.rng),
            street=street,
            house=house,
            postal=postal,
            city=city,
            domain=f"{_slug(name)}.de",
            parent=parent,
        )
        roll = self.rng.random()
        if roll < 0.05:
            found.old_name = self._name()  # renamed: the CRM still has the old name
        elif roll < 0.08 and found.form == "GmbH":
            found.old_form, found.form = "GmbH", "AG"  # became an AG; the CRM did not notice
        if parent is not None:
            parent.children.append(found)
        self.companies.append(found)
        return found

    def branch(self, head: _Company) -> _Company:
        """A branch named after its city, one per city: two branches of one company
        in one city would have one name."""
        taken = {child.city for child in head.children if child.vat == head.vat}
        street, house, postal, city, _ = self._address()
        while city in taken:
            street, house, postal, city, _ = self._address()
        found = _Company(
            truth=f"k{len(self.companies)}",
            name=f"{head.name} Niederlassung {city}",
            form=head.form,
            register=head.register,
            court=head.court,
            vat=head.vat,
            street=street,
            house=house,
            postal=postal,
            city=city,
            domain=head.domain,
            parent=head,
        )
        head.children.append(found)
        self.companies.append(found)
        return found


def _erp(company: _Company) -> Record:
    return {
        "sourceId": company.erp_id,
        "name": company.name,
        "legalForm": company.form,
        "registryNumber": company.register,
        "registryCourt": f"Amtsgericht {company.court}",
        "vatId": company.vat,
        "street": company.street,
        "houseNumber": company.house,
        "postalCode": company.postal,
        "city": company.city,
        "country": "DE",
        "website": f"https://www.{company.domain}",
        "parentSourceId": company.parent.erp_id if company.parent else None,
        "truth": company.truth,
        "parentTruth": company.parent.truth if company.parent else None,
    }


def _crm(rng: random.Random, company: _Company, source_id: str) -> Record:
    name = company.old_name or company.name
    if rng.random() < 0.3:
        name = name.translate(_UMLAUTS)
    if rng.random() < 0.25:
        name = _typo(rng, name)
    form = company.old_form or company.form
    written = rng.choice([form, *_WRITTEN[form]])
    return {
        "sourceId": source_id,
        "name": f"{name} {written}".strip(),
        "registryNumber": company.register if rng.random() < 0.5 else None,
        "vatId": company.vat if rng.random() < 0.7 else None,
        "street": company.street.replace("straße", "str."),
        "houseNumber": company.house,
        "postalCode": company.postal,
        "city": company.city,
        "email": f"info@{company.domain}" if rng.random() < 0.6 else None,
        "parentVatId": company.parent.vat if company.parent and rng.random() < 0.8 else None,
        "truth": company.truth,
        "parentTruth": company.parent.truth if company.parent else None,
    }


def german_companies(count: int = 10_000, *, seed: int = 5) -> dict[str, list[Record]]:
    """About ``count`` records: every company in the ERP, about 60 % again in the CRM.
    A third of the companies are subsidiaries, one in ten branches."""
    make = _Generator(seed)
    while len(make.companies) < count / 1.6:
        head = make.company()
        roll = make.rng.random()
        if roll < 0.25:
            for _ in range(make.rng.randint(1, 3)):
                child = make.company(parent=head)
                if make.rng.random() < 0.2:
                    make.company(parent=child)
        elif roll < 0.35:
            for _ in range(make.rng.randint(1, 2)):
                make.branch(head)
    rng = make.rng
    order = list(make.companies)
    rng.shuffle(order)  # a parent may come after its subsidiaries
    for index, company in enumerate(order):
        company.erp_id = f"e{index}"
    sources: dict[str, list[Record]] = {"erp": [], "crm": []}
    for company in order:
        sources["erp"].append(_erp(company))
        if rng.random() < 0.6:
            sources["crm"].append(_crm(rng, company, f"c{len(sources['crm'])}"))
    return sources
