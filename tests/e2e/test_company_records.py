"""Company records through the gateway: an answer per record, golden values, parents
from the sources, and search."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from stdnum.iso7064 import mod_11_10

from mdm_common.errors import ErrorCode
from mdm_infra.client import GatewayClient, GraphQLError

from .test_merging import wait_for

INGEST = """mutation(
  $source: String!, $records: [CompanyRecordInput!]!, $atomic: Boolean! = false
) {
  ingestCompanyRecords(source: $source, records: $records, atomic: $atomic) {
    created updated withWarnings refused
    results { index sourceId status companyId created
              refusal { field code } warnings { field code } }
  }
}"""
COMPANY = """query($id: ID!) { company(id: $id) {
  name legalForm registrationNumber vatId domains sources country
  address { street houseNumber postalCode city }
  parent { name } ultimateParent { name }
} }"""
SEARCH = """query($name: String, $vat: String, $first: Int!, $after: String) {
  searchCompanies(name: $name, vatId: $vat, first: $first, after: $after) {
    edges { cursor node { id name } } pageInfo { hasNextPage endCursor }
  }
}"""


def _vat() -> str:
    digits = str(10**7 + secrets.randbelow(9 * 10**7))
    return "DE" + digits + mod_11_10.calc_check_digit(digits)


def test_a_batch_is_answered_per_record_and_builds_the_hierarchy(gateway: GatewayClient) -> None:
    word = f"Firma{uuid.uuid4().hex[:6]}"
    holding_vat = _vat()
    records = [
        {
            "sourceId": f"{word}-1",
            "name": f"{word} Service G.m.b.H.",
            "parentVatId": holding_vat,
            "website": "n/a",
            "street": "Hauptstr. 1",
            "postalCode": "50667",
            "city": "Köln",
            "country": "DE",
            "registryNumber": "HRB 4711, AG Köln",
        },
        {"sourceId": f"{word}-2", "website": f"https://{word.lower()}.de"},  # names no company
        {
            "sourceId": f"{word}-3",
            "name": f"{word} Holding",
            "legalForm": "Aktiengesellschaft",
            "vatId": holding_vat.lower(),
        },
    ]
    answer = gateway.execute(INGEST, {"source": "crm", "records": records})["ingestCompanyRecords"]
    assert (answer["created"], answer["refused"], answer["withWarnings"]) == (2, 1, 1)
    service, refused, holding = answer["results"]
    assert service["status"] == "STORED_WITH_WARNINGS"
    assert {"field": "website", "code": "INVALID"} in service["warnings"]
    assert refused["status"] == "REFUSED"
    assert refused["refusal"] == {"field": "record", "code": "NOT_IDENTIFIABLE"}
    assert holding["status"] == "STORED"

    found = gateway.execute(COMPANY, {"id": service["companyId"]})["company"]
    assert found["name"] == f"{word} Service GmbH"
    assert found["legalForm"] == "GmbH"
    assert found["registrationNumber"] == "HRB 4711, Köln"
    assert found["address"] == {
        "street": "Hauptstraße",
        "houseNumber": "1",
        "postalCode": "50667",
        "city": "Köln",
    }
    assert (found["sources"], found["country"]) == (["crm"], "DE")
    # The parent arrived in the same batch, after its subsidiary.
    assert found["parent"] == {"name": f"{word} Holding AG"}
    assert found["ultimateParent"] == {"name": f"{word} Holding AG"}


def test_atomic_refuses_the_whole_batch(gateway: GatewayClient) -> None:
    word = f"Atom{uuid.uuid4().hex[:6]}"
    records = [{"sourceId": f"{word}-1", "name": f"{word} KG"}, {"sourceId": f"{word}-2"}]
    with pytest.raises(GraphQLError) as refused:
        gateway.execute(INGEST, {"source": "crm", "records": records, "atomic": True})
    assert refused.value.codes == [ErrorCode.BAD_USER_INPUT]
    hits = gateway.execute(SEARCH, {"name": word, "first": 5})["searchCompanies"]
    assert hits["edges"] == []


def test_search_pages_through_companies_by_name_and_finds_one_by_vat_id(
    gateway: GatewayClient,
) -> None:
    word = f"Suche{uuid.uuid4().hex[:6]}"
    vat = _vat()
    records = [{"sourceId": f"{word}-{n}", "name": f"{word} Zweig {n} GmbH"} for n in range(5)]
    records[2]["vatId"] = vat
    answer = gateway.execute(INGEST, {"source": "crm", "records": records})["ingestCompanyRecords"]
    ids = [r["companyId"] for r in answer["results"]]

    seen: list[str] = []
    after = None
    while True:
        page = gateway.execute(SEARCH, {"name": f"{word} zweig", "first": 2, "after": after})
        connection = page["searchCompanies"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == ids  # ordered by name: "... Zweig 0" to "... Zweig 4"
    by_vat = gateway.execute(SEARCH, {"vat": vat, "first": 5})["searchCompanies"]["edges"]
    assert [edge["node"]["id"] for edge in by_vat] == [ids[2]]

    with pytest.raises(GraphQLError) as nothing:
        gateway.execute(SEARCH, {"first": 5})
    assert nothing.value.codes == [ErrorCode.BAD_USER_INPUT]


MERGE = """mutation($survivor: ID!, $merged: ID!) {
  mergeCompanies(survivorId: $survivor, mergedId: $merged, reason: "same VAT id") {
    merge { id actor state } survivor { id name address { city } subsidiaries { company { id } } }
  }
}"""
UNMERGE = """mutation($id: ID!) { unmergeCompanies(mergeId: $id) {
  merge { state } survivor { id subsidiaries { company { id } } }
  restored { id name subsidiaries { company { id } } }
} }"""
RESOLVE = "query($id: ID!) { company(id: $id) { id } }"


def test_a_duplicate_company_is_merged_and_unmerged_with_its_subsidiary(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    word, vat = f"Firma{uuid.uuid4().hex[:6]}", _vat()
    erp = gateway.execute(
        INGEST,
        {
            "source": "erp",
            "records": [{"sourceId": f"{word}-e", "name": f"{word} GmbH", "vatId": vat}],
        },
    )["ingestCompanyRecords"]["results"]
    # The CRM still has the company's old name and no VAT id: nothing matching compares
    # says it is the ERP's (it is left to a steward, and no automatic merge interferes).
    crm = gateway.execute(
        INGEST,
        {
            "source": "crm",
            "records": [
                {
                    "sourceId": f"{word}-c",
                    "name": f"Alt{word} G.m.b.H.",
                    "city": "Köln",
                    "postalCode": "50667",
                    "country": "DE",
                },
                {
                    "sourceId": f"{word}-k",
                    "name": f"{word} Kind GmbH",
                    "parentSourceId": f"{word}-c",
                },
            ],
        },
    )["ingestCompanyRecords"]["results"]
    survivor, duplicate, child = erp[0]["companyId"], crm[0]["companyId"], crm[1]["companyId"]
    assert len({survivor, duplicate}) == 2  # two companies until merged

    with pytest.raises(GraphQLError) as forbidden:
        client_for("app").execute(MERGE, {"survivor": survivor, "merged": duplicate})
    assert forbidden.value.codes == ["FORBIDDEN"]
    merged = gateway.execute(MERGE, {"survivor": survivor, "merged": duplicate})["mergeCompanies"]
    assert merged["merge"]["state"] == "ACTIVE"
    assert merged["survivor"]["address"]["city"] == "Köln"  # the CRM's address joined it
    assert [s["company"]["id"] for s in merged["survivor"]["subsidiaries"]] == [child]
    # The merged id keeps resolving to the survivor.
    assert gateway.execute(RESOLVE, {"id": duplicate})["company"]["id"] == survivor
    with pytest.raises(GraphQLError) as again:
        gateway.execute(MERGE, {"survivor": survivor, "merged": duplicate})
    assert again.value.codes == ["CONFLICT"]

    undone = gateway.execute(UNMERGE, {"id": merged["merge"]["id"]})["unmergeCompanies"]
    assert undone["merge"]["state"] == "UNDONE"
    assert undone["survivor"]["subsidiaries"] == []
    assert undone["restored"]["id"] == duplicate
    assert [s["company"]["id"] for s in undone["restored"]["subsidiaries"]] == [child]
    assert gateway.execute(RESOLVE, {"id": duplicate})["company"]["id"] == duplicate


CONFLICTS = """query { companyParentConflicts(first: 200) {
  company { id } parentsNamed { id } } }"""
DECIDE_PARENT = """mutation($company: ID!, $parent: ID) {
  decideParentCompany(companyId: $company, parentId: $parent, note: "the register says so") {
    id parent { id } } }"""
PARENT = "query($id: ID!) { company(id: $id) { parent { id } } }"


def test_parents_two_sources_disagree_on_go_to_a_steward(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    word, vat, first_vat, second_vat = f"Firma{uuid.uuid4().hex[:6]}", _vat(), _vat(), _vat()

    def send(source: str, *records: dict[str, str]) -> list[dict[str, Any]]:
        answer = gateway.execute(INGEST, {"source": source, "records": list(records)})
        return list(answer["ingestCompanyRecords"]["results"])

    erp_record = {"sourceId": f"{word}-a", "name": f"{word} GmbH", "vatId": vat}
    first, second, erp = send(
        "erp",
        {"sourceId": f"{word}-p1", "name": f"{word} Holding AG", "vatId": first_vat},
        {"sourceId": f"{word}-p2", "name": f"{word} Beteiligungen AG", "vatId": second_vat},
        erp_record | {"parentSourceId": f"{word}-p1"},
    )
    shop_record = {"sourceId": f"{word}-c", "name": f"{word} G.m.b.H.", "vatId": vat}
    shop_record["parentVatId"] = second_vat
    (shop,) = send("shop", shop_record)  # a source less trusted than the ERP
    company, holding, other = erp["companyId"], first["companyId"], second["companyId"]
    # Same name and VAT id: matching merges the shop's company into the ERP's.
    wait_for(lambda: gateway.execute(RESOLVE, {"id": shop["companyId"]})["company"]["id"], company)
    # The shop's record again, changed: its source names another parent than the ERP's.
    (again,) = send("shop", shop_record | {"city": "Köln"})
    assert "PARENT_CONFLICT" in [w["code"] for w in again["warnings"]]
    assert gateway.execute(PARENT, {"id": company})["company"]["parent"]["id"] == holding
    conflicts = gateway.execute(CONFLICTS)["companyParentConflicts"]
    ours = [c for c in conflicts if c["company"]["id"] == company]
    assert [[p["id"] for p in c["parentsNamed"]] for c in ours] == [[holding, other]]

    with pytest.raises(GraphQLError) as forbidden:
        client_for("app").execute(DECIDE_PARENT, {"company": company, "parent": other})
    assert forbidden.value.codes == ["FORBIDDEN"]
    decided = gateway.execute(DECIDE_PARENT, {"company": company, "parent": other})
    assert decided["decideParentCompany"]["parent"]["id"] == other
    conflicts = gateway.execute(CONFLICTS)["companyParentConflicts"]
    assert company not in [c["company"]["id"] for c in conflicts]
    # The ERP's record again, changed: the steward's decision stands.
    send("erp", erp_record | {"city": "Bonn", "parentSourceId": f"{word}-p1"})
    assert gateway.execute(PARENT, {"id": company})["company"]["parent"]["id"] == other
