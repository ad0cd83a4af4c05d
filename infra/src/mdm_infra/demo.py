"""A little demo data, loaded through the gateway like any application would."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from mdm_infra.client import GatewayClient, GraphQLError

INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { sourceId personId } }
}
"""
CREATE_PERSON = """
mutation CreatePerson($input: CreatePersonInput!) {
  createPerson(input: $input) { id givenName familyName }
}
"""
RECORD_CONSENT = """
mutation RecordConsentEvent($input: ConsentEventInput!) {
  recordConsentEvent(input: $input) { id purpose type }
}
"""
PURPOSE = "query Purpose($code: String!) { purpose(code: $code) { code } }"
REGISTER_PURPOSE = """
mutation RegisterPurpose($input: RegisterPurposeInput!) { registerPurpose(input: $input) { code } }
"""
PUBLISH_NOTICE = """
mutation PublishNotice($input: PublishNoticeInput!) { publishNotice(input: $input) { version } }
"""
NEWSLETTER = {
    "code": "newsletter", "name": "Newsletter",
    "description": "Our monthly newsletter with offers, by e-mail.", "legalBasis": "CONSENT",
    "channels": ["EMAIL"], "dataCategories": ["identity", "email"], "retentionDays": 730,
    "directMarketing": True,
}  # fmt: skip
SET_CONTROLLER = """
mutation SetController($input: ControllerInput!) { setController(input: $input) { revision } }
"""
DESCRIBE_PROCESSING = """
mutation Describe($input: DescribeProcessingInput!) {
  describeProcessing(input: $input) { revision }
}
"""
CONTROLLER = {
    "name": "Beispiel Handel GmbH",
    "address": "Hauptstraße 1, 04109 Leipzig",
    "email": "datenschutz@example.org",
    "securityMeasuresRef": "TOM (technical and organisational measures), version 2026-10",
    "dpoName": "Datenschutzbeauftragte(r) der Beispiel Handel GmbH",
    "dpoEmail": "dpo@example.org",
    "reason": "Demo data: the controller of the record of processing.",
}
NEWSLETTER_PROCESSING = {
    "purpose": "newsletter",
    "dataSubjectCategories": ["CUSTOMERS", "SUBSCRIBERS"],
    "recipients": [{"name": "Newsletter-Versand GmbH", "kind": "PROCESSOR", "country": "DE"}],
    "reason": "Demo data: who receives the newsletter's data.",
}
NEWSLETTER_NOTICE = (
    "Ja, ich möchte den monatlichen Newsletter per E-Mail erhalten. "
    "Die Einwilligung kann ich jederzeit widerrufen."
)


def ensure_newsletter(client: GatewayClient) -> None:
    """Register the demo's newsletter purpose with its first notice text, once."""
    try:
        client.execute(PURPOSE, {"code": "newsletter"})
    except GraphQLError as exc:
        if exc.codes != ["NOT_FOUND"]:
            raise
        client.execute(REGISTER_PURPOSE, {"input": NEWSLETTER})
        client.execute(PUBLISH_NOTICE, {"input": {"purpose": "newsletter", "language": "de",
                                                  "text": NEWSLETTER_NOTICE}})  # fmt: skip
        client.execute(SET_CONTROLLER, {"input": CONTROLLER})
        client.execute(DESCRIBE_PROCESSING, {"input": NEWSLETTER_PROCESSING})


def newsletter_consent(person_id: str, **overrides: object) -> dict[str, object]:
    """A newsletter grant with its proof, as a former system kept it (importConsentEvents);
    a signup form now records it as PENDING_DOUBLE_OPT_IN (:func:`newsletter_opt_in`)."""
    return {
        "personId": person_id, "type": "GRANTED", "purpose": "newsletter", "channel": "EMAIL",
        "noticeVersion": 1, "language": "de", "collectionPoint": "demo-signup-form",
        "method": "WEB_FORM", "actor": "DATA_SUBJECT", "evidenceRef": f"signup-{person_id}",
    } | overrides  # fmt: skip


def newsletter_opt_in(client: GatewayClient, person_id: str, **overrides: object) -> str:
    """The newsletter's double opt-in (UWG §7(2) Nr. 2) as the signup form and the link
    in the confirmation mail record it: the request, then the person's confirmation.
    ``overrides`` apply to the request (another ``purpose`` too); returns the
    confirmation's event id."""
    request = newsletter_consent(person_id, type="PENDING_DOUBLE_OPT_IN") | overrides
    pending = client.execute(RECORD_CONSENT, {"input": request})["recordConsentEvent"]["id"]
    confirmation = {
        "personId": person_id,
        "type": "CONFIRMED",
        "purpose": request["purpose"],
        "confirms": pending,
        "collectionPoint": "confirmation-mail",
        "method": "EMAIL_LINK",
        "actor": "DATA_SUBJECT",
        "evidenceRef": f"click-{person_id}",
        "confirmationToken": secrets.token_urlsafe(24),
    }
    confirmed = client.execute(RECORD_CONSENT, {"input": confirmation})["recordConsentEvent"]
    return str(confirmed["id"])


# Invented people, written as messy as real exports are; any resemblance is coincidence.
DEMO_RECORDS = {
    "crm": [
        {"sourceId": "CRM-1001", "fullName": "Frau Dr. ANNA MÜLLER",
         "email": "Anna.Mueller@Example.org", "phone": "030 1234567", "street": "Hauptstr. 5",
         "postalCode": "10115", "city": "Berlin", "language": "Deutsch",
         "birthDate": "12.04.1980"},
        {"sourceId": "CRM-1002", "fullName": "Schmidt jun., Jürgen", "phone": "0171/9876543",
         "street": "Königsallee 12 a", "postalCode": "40212", "city": "Düsseldorf",
         "language": "de"},
    ],
    "shop": [
        {"sourceId": "S-77", "givenName": "leyla", "familyName": "özdemir",
         "email": "leyla@example.com", "street": "Schloßstrasse 3", "postalCode": "1067",
         "city": "Dresden", "country": "Deutschland"},
    ],
}  # fmt: skip


INGEST_COMPANIES = """
mutation IngestCompanies($source: String!, $records: [CompanyRecordInput!]!) {
  ingestCompanyRecords(source: $source, records: $records) { results { companyId } }
}
"""
# Invented companies: the ERP's head office and its branch, the CRM's copy of the head
# office (a spelt-out legal form: matching merges it), and an ERP and a CRM record of one
# firm that only a steward can tell (the review queue's company pair).
DEMO_COMPANIES = {
    "erp": [
        {
            "sourceId": "ERP-K-100",
            "name": "Beispiel Maschinenbau GmbH",
            "vatId": "DE136695976",
            "registryNumber": "HRB 4711, AG Leipzig",
            "street": "Hauptstraße 1",
            "postalCode": "04109",
            "city": "Leipzig",
            "website": "https://www.beispiel-maschinenbau.example",
        },
        {
            "sourceId": "ERP-K-101",
            "name": "Beispiel Maschinenbau GmbH Niederlassung Köln",
            "vatId": "DE136695976",
            "street": "Domkloster 4",
            "postalCode": "50667",
            "city": "Köln",
            "parentSourceId": "ERP-K-100",
        },
        {"sourceId": "ERP-K-200", "name": "Muster Logistik GmbH", "city": "Halle (Saale)"},
    ],
    "crm": [
        {
            "sourceId": "CRM-F-9",
            "name": "Beispiel Maschinenbau Gesellschaft mit beschränkter Haftung",
            "vatId": "DE 136 695 976",
            "postalCode": "04109",
            "city": "Leipzig",
        },
        {
            "sourceId": "CRM-F-12",
            "name": "Muster Logistik GmbH",
            "street": "Am Hafen 3",
            "postalCode": "06108",
            "city": "Halle (Saale)",
        },
    ],
}
# A person at the head office: the CRM names the employer.
DEMO_EMPLOYEE = {
    "sourceId": "CRM-1003",
    "fullName": "Petra Schulz",
    "companyName": "Beispiel Maschinenbau GmbH",
    "email": "p.schulz@beispiel-maschinenbau.example",
    "postalCode": "04109",
    "city": "Leipzig",
}


def load_companies(client: GatewayClient) -> None:
    """The demo companies, and a person who works for one of them."""
    for source, records in DEMO_COMPANIES.items():
        client.execute(INGEST_COMPANIES, {"source": source, "records": records})
    client.execute(INGEST, {"source": "crm", "records": [DEMO_EMPLOYEE]})


SUBSCRIBE = """
mutation Subscribe($input: CreateSubscriberInput!) {
  createSubscriber(input: $input) { subscriber { id } }
}
"""
SUBSCRIBERS = "query Subscribers { subscribers { name stream { key length } } }"
# The newsletter tool reads the change stream: the persons with a confirmed newsletter
# opt-in, their names and e-mail addresses (docs/distribution.md).
NEWSLETTER_TOOL = {
    "name": "newsletter-tool",
    "purpose": "newsletter",
    "channel": "EMAIL",
    "categories": ["identity", "email"],
}


def ensure_subscriber(admin: GatewayClient) -> dict[str, object]:
    """The demo's change-stream subscriber (made once): its name and stream."""
    try:
        admin.execute(SUBSCRIBE, {"input": NEWSLETTER_TOOL})
    except GraphQLError as exc:
        if exc.codes != ["CONFLICT"]:
            raise
    found = admin.execute(SUBSCRIBERS)["subscribers"]
    return dict(next(s for s in found if s["name"] == NEWSLETTER_TOOL["name"]))


def load(client: GatewayClient) -> list[str]:
    """Ingest the demo records, give each person a confirmed newsletter opt-in; return
    person ids."""
    ids = []
    for source, records in DEMO_RECORDS.items():
        result = client.execute(INGEST, {"source": source, "records": records})
        ids += [r["personId"] for r in result["ingestSourceRecords"]["records"]]
    ensure_newsletter(client)
    for person_id in ids:
        newsletter_opt_in(client, person_id)
    return ids


def ensure_loaded(client: GatewayClient, marker: Path) -> list[str]:
    """Load the demo data once per data directory; a restart reuses it."""
    if marker.exists():
        ids: list[str] = json.loads(marker.read_text())
        try:
            client.execute("query($id: ID!) { person(id: $id) { id } }", {"id": ids[0]})
        except GraphQLError:
            pass  # the data directory was reset: load again
        else:
            return ids
    ids = load(client)
    load_companies(client)
    marker.write_text(json.dumps(ids))
    return ids


def sample_query(person_id: str) -> str:
    return (
        "query {\n"
        f'  person(id: "{person_id}") {{\n'
        "    id salutation titles givenName familyName email phone language\n"
        "    address { street houseNumber postalCode city country }\n"
        "    lineage { attribute source sourceId rule }\n"
        "    sourceRecords {\n"
        "      source sourceId quality { fixes { field code } issues { field code } }\n"
        "    }\n"
        "    consents { purpose type channel occurredAt collectionPoint }\n"
        "    matching { registered }\n"
        "    matchCandidates { personId score }\n"
        "  }\n"
        "}"
    )
