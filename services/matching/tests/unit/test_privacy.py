"""Data-subject requests: input checks and the export's items (pure, no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from mdm_common.contracts import DataCategory
from mdm_common.errors import InvalidInput
from mdm_matching.domain import privacy
from mdm_matching.domain.engine.features import make_record
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import (
    Decision,
    PairEvidence,
    ReviewTask,
    TaskReason,
    TaskStatus,
    Verdict,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
A, B, C = (str(uuid.UUID(int=n * 0xABCDEF0123456789)) for n in (1, 2, 3))


class TestCheckedIds:
    def test_keeps_order_and_drops_repeats(self) -> None:
        assert privacy.checked_ids([B, A, B]) == (B, A)

    @pytest.mark.parametrize(
        "ids",
        [
            [],
            [str(uuid.uuid4()) for _ in range(privacy.MAX_IDS + 1)],
            [A, "anna@example.org"],
            [A.upper()],
            [A.replace("-", "")],
            [""],
        ],
        ids=["empty", "too many", "not a uuid", "upper case", "no dashes", "blank"],
    )
    def test_refuses(self, ids: list[str]) -> None:
        with pytest.raises(InvalidInput) as refused:
            privacy.checked_ids(ids)
        assert refused.value.field == "personIds"
        assert "anna" not in refused.value.message  # a wrong value is not echoed

    def test_takes_the_maximum(self) -> None:
        ids = [str(uuid.uuid4()) for _ in range(privacy.MAX_IDS)]
        assert len(privacy.checked_ids(ids)) == privacy.MAX_IDS


class TestCheckedRequestId:
    def test_strips(self) -> None:
        assert privacy.checked_request_id("  dsr-42 ") == "dsr-42"

    @pytest.mark.parametrize("request_id", ["", "   ", "x" * 201, "a\nb"])
    def test_refuses(self, request_id: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            privacy.checked_request_id(request_id)
        assert refused.value.field == "requestId"


def _subject(**kwargs: object) -> privacy.StoredSubject:
    record = make_record(
        A,
        given="Jürgen",
        family="Müller",
        birth="19560229",
        email="j.mueller@example.org",
        phone="+49301234567",
        postal_code="10115",
        city="Berlin",
        street="Hauptstraße",
        house_number="5",
    )
    values: dict[str, object] = {
        "person_id": A,
        "registered_at": NOW,
        "merged_into": None,
        "features_at": NOW,
        "record": record,
        "fingerprint": "f1",
        "block_keys": 9,
    } | kwargs
    return privacy.StoredSubject(**values)  # type: ignore[arg-type]


class TestSubjectItems:
    def test_each_feature_under_its_attributes_category(self) -> None:
        items = {i.field: i for i in privacy.subject_items(_subject())}
        expected = {
            "givenName": DataCategory.IDENTITY,
            "familyName": DataCategory.IDENTITY,
            "givenNamePhonetic": DataCategory.IDENTITY,
            "familyNamePhonetic": DataCategory.IDENTITY,
            "birthDate": DataCategory.BIRTH_DATE,
            "email": DataCategory.EMAIL,
            "phone": DataCategory.PHONE,
            "postalCode": DataCategory.POSTAL_ADDRESS,
            "city": DataCategory.POSTAL_ADDRESS,
            "street": DataCategory.POSTAL_ADDRESS,
            "houseNumber": DataCategory.POSTAL_ADDRESS,
            "registeredAt": DataCategory.MATCHING,
            "fingerprint": DataCategory.MATCHING,
            "blockingKeys": DataCategory.MATCHING,
        }
        assert {f: i.category for f, i in items.items()} == expected
        assert items["email"].value == "j.mueller@example.org"
        assert items["birthDate"].value == "19560229"
        assert items["blockingKeys"].value.startswith("9 blocking keys")
        assert {i.origin for i in items.values()} == {privacy.Origin.SUBJECT}
        assert all(i.person_id == A for i in items.values())

    def test_unknown_values_and_untaken_features_are_left_out(self) -> None:
        bare = privacy.subject_items(
            _subject(record=None, fingerprint=None, block_keys=0, features_at=None, merged_into=B)
        )
        assert [(i.field, i.value) for i in bare] == [
            ("registeredAt", NOW.isoformat()),
            ("mergedInto", B),
        ]
        sparse = privacy.subject_items(_subject(record=make_record(A, given="Anna")))
        assert "email" not in {i.field for i in sparse}

    def test_identifiers_are_exported_as_held(self) -> None:
        held = [("TAX_ID_DE", None, "65929970489"), ("CUSTOMER_NUMBER", "crm", "C1")]
        record = make_record(A, given="Anna", identifiers=held)
        items = {i.field: i for i in privacy.subject_items(_subject(record=record))}
        assert items["identifiers"].value == "CUSTOMER_NUMBER:CRM:C1, TAX_ID_DE::65929970489"
        assert items["identifiers"].category == DataCategory.IDENTITY

    def test_restriction(self) -> None:
        items = privacy.subject_items(_subject(restricted_at=NOW, restriction_request_id="r1"))
        restriction = next(i for i in items if i.field == "restriction")
        assert json.loads(restriction.value) == {"restrictedAt": NOW.isoformat(), "requestId": "r1"}


def _evidence(left: str, right: str) -> PairEvidence:
    return PairEvidence(
        left, right, 0.7, 3.5, (Contribution("givenName", "exact", 4.2),), (), "fl", "fr"
    )


EXPLAINED = {
    "comparisons": [{"field": "givenName", "level": "exact", "weight": 4.2}],
    "guards": [],
    "modelVersion": None,
}


class TestExplanation:
    def test_a_merge_decision_keeps_levels_weights_guards_and_model_but_no_value(self) -> None:
        evidence = PairEvidence(
            A,
            B,
            0.998,
            9.1,
            (Contribution("email", "exact", 7.12345), Contribution("birthDate", None, 0.0)),
            ("given names differ",),
            "fl",
            "fr",
            model_version="m-7",
        )
        decision = Decision.about(
            evidence, Verdict.AUTO_MERGE, actor="service:matching-engine", at=NOW, merge_id="m1"
        )
        value = json.loads(privacy.decision_item(decision, frozenset({A})).value)
        assert value["comparisons"] == [
            {"field": "email", "level": "exact", "weight": 7.123},
            {"field": "birthDate", "level": None, "weight": 0.0},
        ]
        assert (value["guards"], value["modelVersion"], value["mergeId"]) == (
            ["given names differ"],
            "m-7",
            "m1",
        )
        assert "fl" not in json.dumps(value)  # fingerprints stay inside matching

    def test_a_decision_recorded_before_evidence_was_kept_explains_nothing(self) -> None:
        decision = Decision(
            "d1", f"{A}|{B}", Verdict.MERGE, "steward-1", NOW, "", "t1", "m1", 0.9, "fl", "fr"
        )
        value = json.loads(privacy.decision_item(decision, frozenset({A})).value)
        assert (value["comparisons"], value["guards"], value["modelVersion"]) == ([], [], None)


class TestPersonalData:
    def test_tasks_decisions_and_rematch_entries_name_the_other_person(self) -> None:
        task = ReviewTask(
            "t1", _evidence(A, B), TaskReason.UNCERTAIN, TaskStatus.OPEN, NOW, NOW, note="call back"
        )
        decision = Decision.about(
            _evidence(C, B),
            Verdict.NOT_A_MATCH,
            actor="steward-1",
            at=NOW,
            note="other person",
            task_id="t0",
        )
        entries = [
            privacy.RematchEntry(privacy.RematchKind.PROPOSAL, "j1", A, B, 0.8),
            privacy.RematchEntry(privacy.RematchKind.STEP, "j1", A, B, 0.999, "PLANNED"),
        ]
        found = privacy.personal_data(
            [B], subjects=[], tasks=[task], decisions=[decision], rematch=entries, erased=[]
        )
        assert found.person_ids == (B,)
        assert not found.restricted
        assert all(i.person_id == B and i.category == DataCategory.MATCHING for i in found.items)
        values = {i.origin: json.loads(i.value) for i in found.items}
        assert values[privacy.Origin.REVIEW_TASK] == {
            "taskId": "t1",
            "status": "OPEN",
            "reason": "UNCERTAIN",
            "score": 0.7,
            "otherPersonId": A,
            "note": "call back",
            **EXPLAINED,
        }
        assert values[privacy.Origin.DECISION] | {"decisionId": None} == {
            "decisionId": None,
            "verdict": "NOT_A_MATCH",
            "at": NOW.isoformat(),
            "actor": "steward-1",
            "note": "other person",
            "otherPersonId": C,
            "taskId": "t0",
            "mergeId": None,
            "score": 0.7,
            **EXPLAINED,
        }
        assert values[privacy.Origin.REMATCH_PROPOSAL] == {
            "jobId": "j1",
            "otherPersonId": A,
            "score": 0.8,
        }
        assert values[privacy.Origin.REMATCH_STEP] == {
            "jobId": "j1",
            "survivorId": A,
            "mergedId": B,
            "status": "PLANNED",
            "score": 0.999,
        }

    def test_a_pair_within_the_group_is_listed_once_under_its_left_id(self) -> None:
        task = ReviewTask("t1", _evidence(A, B), TaskReason.GUARDED, TaskStatus.OPEN, NOW, NOW)
        found = privacy.personal_data(
            [A, B], subjects=[], tasks=[task], decisions=[], rematch=[], erased=[]
        )
        assert [(i.person_id, json.loads(i.value)["otherPersonId"]) for i in found.items] == [
            (A, B)
        ]

    def test_restricted_if_any_subject_is(self) -> None:
        found = privacy.personal_data(
            [A, B],
            subjects=[_subject(), _subject(person_id=B, restricted_at=NOW)],
            tasks=[],
            decisions=[],
            rematch=[],
            erased=[],
        )
        assert found.restricted

    def test_nothing_held(self) -> None:
        found = privacy.personal_data(
            [A], subjects=[], tasks=[], decisions=[], rematch=[], erased=[]
        )
        assert (found.items, found.restricted) == ((), False)

    def test_an_erasure_leaves_its_tombstone(self) -> None:
        found = privacy.personal_data(
            [A],
            subjects=[],
            tasks=[],
            decisions=[],
            rematch=[],
            erased=[privacy.ErasedSubject(A, NOW, "req-9")],
        )
        (item,) = found.items
        assert (item.origin, item.category, item.recorded_at) == (
            privacy.Origin.ERASURE,
            DataCategory.MATCHING,
            NOW,
        )
        assert json.loads(item.value) == {"requestId": "req-9", "erasedAt": NOW.isoformat()}


def test_block_keys_come_from_the_stored_features() -> None:
    keys = privacy.block_keys_of([_subject(), _subject(person_id=B, record=None)])
    assert "8:j.mueller@example.org" in keys
    assert keys == sorted(set(keys))
