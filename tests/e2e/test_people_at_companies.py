"""People at companies through the gateway: a person record naming its employer or
written from a business e-mail address is linked to the company, with its source;
when the company is unsure, a steward chooses from a proposal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .matching_support import family_name, ingest
from .test_company_records import INGEST

EMPLOYERS = """query($id: ID!) { person(id: $id) {
  employers { companyId role source via company { name } } } }"""
PROPOSALS = """query { employmentProposals(first: 200) {
  id personId recordSource via companies { id name } } }"""
DECIDE = """mutation($id: ID!, $company: ID) {
  decideEmploymentProposal(id: $id, companyId: $company, note: "works at the branch") {
    status decidedBy decidedCompanyId } }"""


def _companies(gateway: GatewayClient, *records: dict[str, str]) -> list[str]:
    answer = gateway.execute(INGEST, {"source": "erp", "records": list(records)})
    return [r["companyId"] for r in answer["ingestCompanyRecords"]["results"]]


def _employers(gateway: GatewayClient, person_id: str) -> list[dict[str, Any]]:
    return list(gateway.execute(EMPLOYERS, {"id": person_id})["person"]["employers"])


def test_a_record_naming_its_employer_links_the_person(gateway: GatewayClient) -> None:
    word = f"Firma{uuid.uuid4().hex[:6]}"
    (company,) = _companies(
        gateway,
        {
            "sourceId": f"{word}-1",
            "name": f"{word} Maschinenbau GmbH",
            "website": f"https://www.{word.lower()}.de",
        },
    )
    person = ingest(
        gateway,
        "crm",
        givenName="Anna",
        familyName=family_name(),
        email=f"anna@{word.lower()}.de",
        companyName=f"{word} Maschinenbau G.m.b.H.",
    )
    assert _employers(gateway, person) == [
        {
            "companyId": company,
            "role": "employee",
            "source": "crm",
            "via": "NAME_AND_DOMAIN",
            "company": {"name": f"{word} Maschinenbau GmbH"},
        }
    ]


def test_an_unsure_employer_is_a_stewards_choice(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    word = f"Firma{uuid.uuid4().hex[:6]}"
    domain = f"{word.lower()}.de"
    head, branch = _companies(
        gateway,
        {"sourceId": f"{word}-h", "name": f"{word} Bau GmbH", "website": f"https://{domain}"},
        {
            "sourceId": f"{word}-b",
            "name": f"{word} Bau GmbH Niederlassung Köln",
            "email": f"koeln@{domain}",
        },
    )
    person = ingest(
        gateway, "crm", givenName="Anna", familyName=family_name(), email=f"anna@{domain}"
    )
    assert _employers(gateway, person) == []

    with pytest.raises(GraphQLError) as forbidden:
        client_for("app").execute(PROPOSALS)
    assert forbidden.value.codes == ["FORBIDDEN"]
    proposals = gateway.execute(PROPOSALS)["employmentProposals"]
    (proposal,) = [p for p in proposals if p["personId"] == person]
    assert (proposal["recordSource"], proposal["via"]) == ("crm", "EMAIL_DOMAIN")
    assert sorted(c["id"] for c in proposal["companies"]) == sorted([head, branch])

    with pytest.raises(GraphQLError) as neither:  # neither a company nor "none of them"
        gateway.execute(DECIDE, {"id": proposal["id"], "company": None})
    assert neither.value.codes == ["BAD_USER_INPUT"]
    decided = gateway.execute(DECIDE, {"id": proposal["id"], "company": branch})
    assert decided["decideEmploymentProposal"]["decidedCompanyId"] == branch
    assert [(e["companyId"], e["via"]) for e in _employers(gateway, person)] == [
        (branch, "STEWARD")
    ]
    with pytest.raises(GraphQLError) as again:
        gateway.execute(DECIDE, {"id": proposal["id"], "company": head})
    assert again.value.codes == ["CONFLICT"]
