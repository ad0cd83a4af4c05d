"""GraphQL documents the end-to-end tests send through the gateway."""

import uuid

CREATE_PERSON = """
mutation CreatePerson($input: CreatePersonInput!) {
  createPerson(input: $input) { id givenName familyName email createdAt }
}
"""

RECORD_CONSENT = """
mutation RecordConsentEvent($input: ConsentEventInput!) {
  recordConsentEvent(input: $input) { id purpose type channel collectionPoint occurredAt }
}
"""

PERSON_360 = """
query Person360($id: ID!) {
  person(id: $id) {
    id givenName familyName email
    consents { purpose type channel collectionPoint occurredAt }
    matching { registered registeredAt }
    matchCandidates { personId score }
  }
}
"""

MATCHING_STATE = """
query MatchingState($id: ID!) { person(id: $id) { matching { registered } } }
"""


def unique_letters(count: int = 8) -> str:
    """Letters only (names must look like names), different in every call."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    number = uuid.uuid4().int
    return "".join(alphabet[(number >> (5 * i)) % 26] for i in range(count))


def person_input(**overrides: object) -> dict[str, object]:
    """A person of its own: the matching worker must not take two tests' persons for one."""
    tag = unique_letters()
    return {
        "givenName": "Greta",
        "familyName": f"Fröhlich{tag}",
        "email": f"greta.{tag}@example.org",
    } | overrides


def consent_input(person_id: str, **overrides: object) -> dict[str, object]:
    """A grant for personalised offers with its proof (the purpose is registered by
    conftest.py); the e-mail newsletter would need a double opt-in."""
    return {
        "personId": person_id, "type": "GRANTED", "purpose": "profiling",
        "channel": "PERSONALISED_WEB",
        "noticeVersion": 1, "language": "de", "collectionPoint": "shop-checkout",
        "method": "WEB_FORM", "actor": "DATA_SUBJECT", "evidenceRef": "form-4711",
    } | overrides  # fmt: skip


INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    created updated
    records {
      sourceId personId created
      quality { fixes { field code } issues { field code severity } }
    }
  }
}
"""

GOLDEN = """
query Golden($id: ID!) {
  person(id: $id) {
    id givenName familyName titles suffix salutation birthDate email phone language
    address { street houseNumber postalCode city country }
    lineage { attribute source sourceId rule }
    sourceRecords {
      source sourceId givenName familyName quality { fixes { code } issues { code } }
    }
  }
}
"""

SOURCE_RECORD = """
query SourceRecord($source: String!, $sourceId: String!) {
  sourceRecord(source: $source, sourceId: $sourceId) {
    source sourceId familyName
    quality { fixes { field code } issues { field code severity } }
  }
}
"""

MERGE = """
mutation Merge($survivorId: ID!, $mergedId: ID!, $reason: String!) {
  mergePersons(survivorId: $survivorId, mergedId: $mergedId, reason: $reason) {
    merge { id survivorId mergedId actor reason state }
    survivor { id email phone mergedFrom }
  }
}
"""

MERGE_BULK = """
mutation MergeBulk($merges: [BulkMergeInput!]!) {
  mergePersonsBulk(merges: $merges) {
    merged replayed skipped
    results { index survivorId mergedId status mergeId skip { reason code field message } }
  }
}
"""

UNMERGE = """
mutation Unmerge($mergeId: ID!) {
  unmergePersons(mergeId: $mergeId) {
    merge { id state }
    survivor { id email phone mergedFrom }
    restored { id email phone mergedFrom }
  }
}
"""
