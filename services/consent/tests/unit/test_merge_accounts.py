"""Why records were joined, as an access export tells it (pure, no servers)."""

from __future__ import annotations

from datetime import timedelta

from mdm_common.contracts import DataCategory
from mdm_consent.domain import merge_accounts as ma

from .export_items import COMPARED, ENGINE, T0, A, B, C, decision, item, profile_merge


class TestMerges:
    def test_an_automatic_merge_names_model_probability_and_each_field_in_plain_words(
        self,
    ) -> None:
        items = [
            profile_merge("m1", B, actor=ENGINE),
            decision("m1", "AUTO_MERGE", actor=ENGINE, other=B, comparisons=COMPARED),
        ]
        (merge,) = ma.merges(items)
        assert (merge.decided_by, merge.survivor_id, merge.merged_id, merge.at) == (
            ma.DecidedBy.MATCHING_MODEL,
            A,
            B,
            T0,
        )
        assert (merge.model_version, merge.probability) == ("2026-05-01T00:00:00/m1", 0.9981)
        assert [(c.field, c.level, c.weight) for c in merge.comparisons][3] == (
            "email",
            "exact",
            12.25,
        )
        assert merge.in_words == (
            "Merged automatically by the matching model (version 2026-05-01T00:00:00/m1): "
            "e-mail equal, birth date equal, given name equal, family name similar "
            "(Jaro-Winkler >= 0.8, one edit or initial); probability 0.998."
        )

    def test_a_stewards_merge_after_review_names_steward_task_reason_and_note(self) -> None:
        task = {
            "taskId": "t1",
            "status": "RESOLVED",
            "reason": "GUARDED",
            "score": 0.97,
            "otherPersonId": C,
            "note": None,
            "comparisons": COMPARED[:2],
            "guards": ["birth dates differ"],
            "modelVersion": "v0",
        }
        items = [
            profile_merge("m2", C, actor="steward-7", reason="same customer, checked"),
            item("matching", "reviewTask", task, category=DataCategory.MATCHING),
            # Recorded before decisions kept their evidence: the task has it.
            decision(
                "m2", "MERGE", actor="steward-7", other=C, note="called the customer", task="t1"
            ),
        ]
        (merge,) = ma.merges(items)
        assert (merge.decided_by, merge.actor, merge.review_task_id, merge.review_reason) == (
            ma.DecidedBy.STEWARD,
            "steward-7",
            "t1",
            "GUARDED",
        )
        assert (merge.guards, merge.model_version) == (("birth dates differ",), "v0")
        assert merge.in_words.startswith(
            "Merged by data steward steward-7 after review (a safeguard against merging "
            "different people had fired); the review showed: given name equal, family name "
            "similar"
        )
        assert "safeguards fired: birth dates differ; probability 0.998." in merge.in_words
        assert merge.in_words.endswith("Note: called the customer.")

    def test_a_merge_made_directly_in_the_profile_says_no_comparison_was_made(self) -> None:
        (merge,) = ma.merges([profile_merge("m3", B, actor="steward-2", reason="Same person.")])
        assert (merge.decided_by, merge.comparisons, merge.note) == (
            ma.DecidedBy.STEWARD,
            (),
            "Same person.",
        )
        assert merge.in_words == (
            "Merged by steward-2 directly in the profile; no field comparison was made by "
            "the matching model. Note: Same person."
        )

    def test_unmerges_are_told_with_the_merge(self) -> None:
        later = T0 + timedelta(days=3)
        items = [
            profile_merge("m1", B, actor=ENGINE, state="UNDONE"),
            decision("m1", "AUTO_MERGE", actor=ENGINE, other=B, comparisons=COMPARED),
            decision("m1", "UNMERGE", actor="steward-1", other=B, note="twins", at=later),
            profile_merge("m0", C, actor="steward-1", state="UNDONE", at=T0 - timedelta(1)),
        ]
        first, second = ma.merges(items)  # oldest first
        assert (first.merge_id, second.merge_id) == ("m0", "m1")
        assert first.in_words.endswith("Undone later.")
        assert [(u.actor, u.note, u.at) for u in second.unmerges] == [("steward-1", "twins", later)]
        assert second.in_words.endswith(" Undone on 2026-05-07 by steward-1: twins.")
        assert second.document()["unmerges"] == [
            {"at": later.isoformat(), "actor": "steward-1", "note": "twins"}
        ]
