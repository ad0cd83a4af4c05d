"""Company records against the real graph server: companies created and updated from
their records, parents linked whenever they become known, and company search."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from stdnum.iso7064 import mod_11_10

from mdm_common.contracts import Event
from mdm_common.graph import GraphClient
from mdm_profile.adapters import company_record_store, company_store, employment_store
from mdm_profile.adapters.company_record_store import GraphCompanyRecordStore
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.domain import company_search
from mdm_profile.domain.company_ingest import CompanyOutcome, ingest_companies
from mdm_profile.domain.company_records import RawCompanyRecord, clean_company
from mdm_profile.domain.sources import SourceSystem

from .events import Recorder

PRIORITY = {"erp": 1, "crm": 2}
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def vat_id() -> str:
    """A valid German VAT id no other test uses."""
    digits = str(10**7 + secrets.randbelow(9 * 10**7))
    return "DE" + digits + mod_11_10.calc_check_digit(digits)


def sid() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (*company_store.SCHEMA, *company_record_store.SCHEMA, *employment_store.SCHEMA)
    )
    return client


async def ingest(
    graph: GraphClient, source: str, *raws: RawCompanyRecord, events: Recorder | None = None
) -> list[CompanyOutcome]:
    system = SourceSystem(source, PRIORITY[source])
    cleaned = [clean_company(r, source=system, received_at=T0) for r in raws]
    return await graph.write(
        lambda tx: ingest_companies(
            cleaned,
            records=GraphCompanyRecordStore(tx),
            hierarchy=GraphCompanyStore(tx),
            employers=GraphEmploymentStore(tx),
            priority_of=PRIORITY.__getitem__,
            events=events or Recorder(),
            now=T0,
        )
    )


async def company(graph: GraphClient, company_id: str):  # type: ignore[no-untyped-def]
    found = await graph.read(lambda tx: GraphCompanyStore(tx).get_many([company_id]))
    return found[company_id]


async def test_a_record_creates_its_company_and_a_later_one_updates_it(graph: GraphClient) -> None:
    vat, source_id = vat_id(), sid()
    (first,) = await ingest(
        graph,
        "crm",
        RawCompanyRecord(
            source_id, name="Mueller Maschinenbau G.m.b.H.", vat_id=vat, website="www.mueller-mb.de"
        ),
    )
    assert first.created
    created = await company(graph, first.company_id)
    assert created.name == "Mueller Maschinenbau GmbH"
    assert created.details is not None
    assert (created.details.legal_form, created.details.vat_id) == ("GmbH", vat)

    # The ERP is more trusted: its spelling of the name wins; the domains add up.
    (erp,) = await ingest(
        graph,
        "erp",
        RawCompanyRecord(
            sid(), name="Müller Maschinenbau GmbH", vat_id=vat, email="info@mueller-maschinenbau.de"
        ),
    )
    assert erp.created  # no matching yet: another company, found by its VAT id below
    again = await ingest(
        graph,
        "crm",
        RawCompanyRecord(
            source_id,
            name="Mueller Maschinenbau G.m.b.H.",
            vat_id=vat,
            website="www.mueller-mb.de",
            city="München",
        ),
    )
    assert (again[0].company_id, again[0].created) == (first.company_id, False)
    updated = await company(graph, first.company_id)
    assert updated.details is not None
    assert updated.details.address is not None
    assert updated.details.address.city == "München"


async def test_the_same_record_again_changes_nothing(graph: GraphClient) -> None:
    raw = RawCompanyRecord(sid(), name="Weber OHG", vat_id=vat_id())
    (first,) = await ingest(graph, "crm", raw)
    before = await company(graph, first.company_id)
    events = Recorder()
    (second,) = await ingest(graph, "crm", raw, events=events)
    assert (second.company_id, second.created) == (first.company_id, False)
    assert await company(graph, first.company_id) == before
    assert events.events == []  # nothing changed, nothing announced


async def test_a_parent_arriving_after_its_subsidiary_is_linked(graph: GraphClient) -> None:
    parent_vat, head_id = vat_id(), sid()
    (child,) = await ingest(
        graph, "crm", RawCompanyRecord(sid(), name="Müller Service GmbH", parent_vat_id=parent_vat)
    )
    assert (await company(graph, child.company_id)).parent_id is None  # not known yet
    (grandchild,) = await ingest(
        graph,
        "erp",
        RawCompanyRecord(sid(), name="Müller Service Nord GmbH", parent_source_id=head_id),
    )
    events = Recorder()
    (head,) = await ingest(
        graph,
        "erp",
        RawCompanyRecord(head_id, name="Müller Holding AG", vat_id=parent_vat),
        events=events,
    )
    # The new company, and the two whose parent it became, are announced.
    announced = sorted((event, ids["company_id"]) for event, ids in events.events)
    assert announced == sorted(
        [
            (Event.COMPANY_CREATED, head.company_id),
            (Event.COMPANY_UPDATED, child.company_id),
            (Event.COMPANY_UPDATED, grandchild.company_id),
        ]
    )
    assert (await company(graph, child.company_id)).parent_id == head.company_id
    assert (await company(graph, grandchild.company_id)).parent_id == head.company_id
    tree = await graph.read(lambda tx: GraphCompanyStore(tx).subsidiaries([head.company_id], 3))
    assert sorted(s.company.id for s in tree[head.company_id]) == sorted(
        [child.company_id, grandchild.company_id]
    )


async def test_a_parent_in_the_same_batch_is_linked(graph: GraphClient) -> None:
    head_id = sid()
    child, head = await ingest(
        graph,
        "erp",
        RawCompanyRecord(sid(), name="Tochter GmbH", parent_source_id=head_id),
        RawCompanyRecord(head_id, name="Mutter SE"),
    )
    assert (await company(graph, child.company_id)).parent_id == head.company_id


async def test_a_parent_that_would_close_a_cycle_is_not_linked(graph: GraphClient) -> None:
    top_id, low_id = sid(), sid()
    top, low = await ingest(
        graph,
        "erp",
        RawCompanyRecord(top_id, name="Oben AG"),
        RawCompanyRecord(low_id, name="Unten GmbH", parent_source_id=top_id),
    )
    # The top's record now names its own subsidiary as its parent.
    (again,) = await ingest(
        graph, "erp", RawCompanyRecord(top_id, name="Oben AG", parent_source_id=low_id)
    )
    assert (await company(graph, top.company_id)).parent_id is None
    assert (await company(graph, low.company_id)).parent_id == top.company_id
    assert ("parent", "PARENT_CYCLE") in [(i.field, i.code) for i in again.quality.issues]
    stored = await graph.read(
        lambda tx: GraphCompanyRecordStore(tx).records_by_key([f"erp|{top_id}"])
    )
    assert "PARENT_CYCLE" in [i.code for i in stored[f"erp|{top_id}"].record.quality.issues]


async def test_search_by_name_register_vat_domain_and_postal_code(graph: GraphClient) -> None:
    word = f"Suchtest{uuid.uuid4().hex[:6]}"
    vat = vat_id()
    number = str(10**5 + secrets.randbelow(9 * 10**5))
    outcomes = await ingest(
        graph,
        "crm",
        RawCompanyRecord(
            sid(),
            name=f"{word} Mueller GmbH",
            vat_id=vat,
            postal_code="50667",
            city="Köln",
            registry_number=f"HRB {number}",
            registry_court="Köln",
            website=f"https://{word.lower()}.de",
        ),
        *[RawCompanyRecord(sid(), name=f"{word} Zweig {n} KG") for n in range(3)],
    )

    async def found(**criteria: str | None) -> list[str]:
        args = {
            "name": None,
            "registry_number": None,
            "vat_id": None,
            "domain": None,
            "postal_code": None,
            **criteria,
        }
        page = await graph.read(
            lambda tx: company_search.search_companies(
                company_search.criteria_from(**args),
                first=10,
                after=None,
                store=GraphCompanyRecordStore(tx),
            )
        )
        return [c.id for c, _ in page.companies]

    first = outcomes[0].company_id
    assert await found(name=f"{word} Müller") == [first]
    assert await found(vat_id=vat.lower()) == [first]
    assert await found(registry_number=f"HRB{number}") == [first]
    assert await found(domain=f"www.{word.lower()}.de") == [first]
    assert first in await found(postal_code="50667", name=word)
    assert len(await found(name=word)) == 4

    pages: list[str] = []
    after = None
    while True:
        page = await graph.read(
            lambda tx, after=after: company_search.search_companies(
                company_search.criteria_from(
                    name=word, registry_number=None, vat_id=None, domain=None, postal_code=None
                ),
                first=3,
                after=after,
                store=GraphCompanyRecordStore(tx),
            )
        )
        pages += [c.id for c, _ in page.companies]
        if not page.has_next:
            break
        after = page.companies[-1][1]
    assert sorted(pages) == sorted(o.company_id for o in outcomes)
    assert len(pages) == 4


async def test_a_register_number_without_its_court_names_a_parent_only_if_it_is_unique(
    graph: GraphClient,
) -> None:
    number = f"HRB {10**5 + secrets.randbelow(9 * 10**5)}"
    (child,) = await ingest(
        graph, "crm", RawCompanyRecord(sid(), name="Kind GmbH", parent_registry_number=number)
    )
    (parent,) = await ingest(
        graph,
        "erp",
        RawCompanyRecord(sid(), name="Eltern AG", registry_number=number, registry_court="Köln"),
    )
    assert (await company(graph, child.company_id)).parent_id == parent.company_id

    # The same number at another court: the number alone names no one any more.
    await ingest(
        graph,
        "erp",
        RawCompanyRecord(sid(), name="Andere AG", registry_number=number, registry_court="Bonn"),
    )
    (orphan,) = await ingest(
        graph, "crm", RawCompanyRecord(sid(), name="Waise GmbH", parent_registry_number=number)
    )
    assert (await company(graph, orphan.company_id)).parent_id is None


async def test_a_company_is_found_by_its_current_domains_only(graph: GraphClient) -> None:
    word, source_id = f"domain{uuid.uuid4().hex[:8]}", sid()

    async def by_domain(domain: str) -> list[str]:
        criteria = company_search.criteria_from(
            name=None, registry_number=None, vat_id=None, domain=domain, postal_code=None
        )
        page = await graph.read(
            lambda tx: company_search.search_companies(
                criteria, first=5, after=None, store=GraphCompanyRecordStore(tx)
            )
        )
        return [c.id for c, _ in page.companies]

    (first,) = await ingest(
        graph, "crm", RawCompanyRecord(source_id, name="Alt GmbH", website=f"{word}-alt.de")
    )
    assert await by_domain(f"{word}-alt.de") == [first.company_id]
    await ingest(
        graph,
        "crm",
        RawCompanyRecord(
            source_id, name="Alt GmbH", website=f"{word}-neu.de", email=f"info@{word}-mail.de"
        ),
    )
    assert await by_domain(f"{word}-alt.de") == []
    assert await by_domain(f"{word}-neu.de") == [first.company_id]
    assert await by_domain(f"{word}-mail.de") == [first.company_id]
