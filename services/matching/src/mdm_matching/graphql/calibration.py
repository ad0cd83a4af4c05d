"""Learning from stewards in the matching subgraph: calibration, dry run, recalibration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import InvalidInput
from mdm_matching.domain import calibration, dry_run, recalibration
from mdm_matching.domain.stores import Stores
from mdm_matching.graphql.context import MatchingContext

Info = strawberry.Info[MatchingContext, None]

STEWARD_ROLES = (Role.STEWARD,)
ADMIN_ROLES = (Role.ADMIN,)
MAX_CHANGES = 100


@strawberry.type(description="A share estimated from steward decisions, with its 95 % interval.")
class LabelledPrecision:
    labels: int = strawberry.field(description="Labelled pairs (steward decisions) counted.")
    positives: int = strawberry.field(description="Of those, the pairs the share counts.")
    estimate: float | None = strawberry.field(description="positives / labels; null: no label.")
    low: float = strawberry.field(description="Lower bound of the Wilson score interval (95 %).")
    high: float = strawberry.field(description="Upper bound of the Wilson score interval (95 %).")

    @classmethod
    def from_model(cls, p: calibration.Precision) -> LabelledPrecision:
        return cls(
            labels=p.labels,
            positives=p.matches,
            estimate=p.estimate,
            low=p.interval.low,
            high=p.interval.high,
        )


@strawberry.type(description="Precision of the pairs scored in one probability band.")
class ScoreBandPrecision:
    low: float = strawberry.field(description="Lowest probability of the band (inclusive).")
    high: float = strawberry.field(description="Upper edge (exclusive; 1 is included).")
    precision: LabelledPrecision = strawberry.field(
        description="Share of true pairs among the unguarded pairs stewards decided in the band."
    )


@strawberry.type(description="How often an identity guard was right when stewards decided.")
class GuardPrecision:
    guard: str
    precision: LabelledPrecision = strawberry.field(
        description="Share of the decided pairs the guard fired on that were not a match."
    )


@strawberry.type(
    description="Thresholds the stewards' decisions support; applied only by an admin."
)
class ThresholdProposal:
    review_at: float
    auto_merge_at: float
    unreviewed_guards: list[str] = strawberry.field(
        description="Identity guards whose pairs stewards need no longer see: a pair one of "
        "them alone holds back opens no review task (stewards' decisions showed the guard "
        "right: true pairs below reviewFloor at the interval's upper bound)."
    )
    changes: bool = strawberry.field(
        description="Whether it differs from the current thresholds and unreviewed guards."
    )
    reasons: list[str] = strawberry.field(description="Why each threshold or guard would change.")


@strawberry.type(
    description="How well the match scores agree with stewards' decisions (MERGE: a true "
    "pair; NOT_A_MATCH and undone merges: not one; the last decision per pair counts)."
)
class MatchCalibration:
    model_version: str = strawberry.field(description="The current model.")
    review_at: float = strawberry.field(description="The review threshold in force.")
    auto_merge_at: float = strawberry.field(description="The auto-merge threshold in force.")
    unreviewed_guards: list[str] = strawberry.field(
        description="The guards no longer reviewed, in force."
    )
    labels: int = strawberry.field(description="Pairs with a steward's label.")
    bands: list[ScoreBandPrecision]
    guards: list[GuardPrecision]
    auto_merges: int = strawberry.field(description="Automatic merges made.")
    undone_auto_merges: int = strawberry.field(description="Of those, undone by a steward.")
    proposal: ThresholdProposal


@strawberry.type(
    description="What new thresholds would change, over the pairs matching holds with a "
    "score: unresolved review tasks and standing automatic merges (pairs below the review "
    "threshold are not kept: a lower reviewAt cannot show the tasks it would add; steward "
    "decisions stand). Nothing is changed."
)
class MatchThresholdDryRun:
    review_at: float
    auto_merge_at: float
    unreviewed_guards: list[str]
    pairs: int = strawberry.field(description="Scored pairs covered.")
    open_tasks: int = strawberry.field(description="Of those, unresolved review tasks.")
    auto_merges: int = strawberry.field(description="Of those, standing automatic merges.")
    pairs_to_merge: int = strawberry.field(description="Review tasks that would be merged.")
    clusters_to_merge: int = strawberry.field(
        description="Groups of persons those merges would join (one group may take several)."
    )
    merges_to_split: int = strawberry.field(
        description="Automatic merges the thresholds would not make: their clusters would split."
    )
    tasks_to_appear: int = strawberry.field(
        description="Review tasks that would appear (split merges still worth a review)."
    )
    tasks_to_disappear: int = strawberry.field(
        description="Review tasks that would go: merged, below the review threshold, or "
        "held back by a guard no longer reviewed alone."
    )

    @classmethod
    def from_model(cls, d: dry_run.DryRun) -> MatchThresholdDryRun:
        return cls(
            review_at=d.review_at,
            auto_merge_at=d.auto_merge_at,
            unreviewed_guards=list(d.unreviewed_guards),
            pairs=d.pairs,
            open_tasks=d.open_tasks,
            auto_merges=d.auto_merges,
            pairs_to_merge=d.pairs_to_merge,
            clusters_to_merge=d.clusters_to_merge,
            merges_to_split=d.merges_to_split,
            tasks_to_appear=d.tasks_to_appear,
            tasks_to_disappear=d.tasks_to_disappear,
        )


@strawberry.type(description="One recalibration of the match model, as audited.")
class MatchModelChange:
    id: strawberry.ID
    actor: str
    at: datetime
    note: str
    previous_version: str
    version: str = strawberry.field(description="The model version the change created.")
    previous_review_at: float
    previous_auto_merge_at: float
    review_at: float
    auto_merge_at: float
    previous_unreviewed_guards: list[str]
    unreviewed_guards: list[str]

    @classmethod
    def from_model(cls, c: recalibration.ModelChange) -> MatchModelChange:
        return cls(
            id=strawberry.ID(c.id),
            actor=c.actor,
            at=c.at,
            note=c.note,
            previous_version=c.previous_version,
            version=c.version,
            previous_review_at=c.previous_review_at,
            previous_auto_merge_at=c.previous_auto_merge_at,
            review_at=c.review_at,
            auto_merge_at=c.auto_merge_at,
            previous_unreviewed_guards=list(c.previous_unreviewed_guards),
            unreviewed_guards=list(c.unreviewed_guards),
        )


def _targets(merge_precision: float, review_floor: float, min_labels: int) -> calibration.Targets:
    try:
        return calibration.Targets(
            merge_precision=merge_precision, review_floor=review_floor, min_labels=min_labels
        )
    except ValueError as exc:
        raise InvalidInput(
            "mergePrecision in (0, 1], reviewFloor in [0, 1) and minLabels >= 1 are needed.",
            field="mergePrecision",
        ) from exc


@strawberry.type
class CalibrationQuery:
    @strawberry.field(
        description="Precision of each score band and identity guard estimated from steward "
        "decisions, and the thresholds and unreviewed guards they support (targets: "
        "mergePrecision for automatic merges, reviewFloor below which a band or a guard's "
        "pairs are not worth a review, minLabels to move a threshold or a guard). "
        "Role: steward."
    )
    async def match_calibration(
        self,
        info: Info,
        merge_precision: float = 0.95,
        review_floor: float = 0.1,
        min_labels: int = 20,
        model_versions: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only decisions on pairs these model versions scored (a "
                "recalibrated version scores as the one it came from: list both); "
                "null: all decisions."
            ),
        ] = None,
    ) -> MatchCalibration:
        ctx = info.context
        ctx.require(*STEWARD_ROLES)
        targets = _targets(merge_precision, review_floor, min_labels)

        async def read(stores: Stores) -> tuple[calibration.Calibration, str]:
            found = await recalibration.calibrate(
                stores, ctx.policy, targets, model_versions=model_versions
            )
            return found, await stores.subjects.model_version() or "default"

        found, version = await ctx.transactions.read(read)
        return MatchCalibration(
            model_version=version,
            review_at=found.review_at,
            auto_merge_at=found.auto_merge_at,
            unreviewed_guards=list(found.unreviewed_guards),
            labels=found.labels,
            bands=[
                ScoreBandPrecision(
                    low=b.band.low,
                    high=b.band.high,
                    precision=LabelledPrecision.from_model(b.precision),
                )
                for b in found.bands
            ],
            guards=[
                GuardPrecision(guard=g.guard, precision=LabelledPrecision.from_model(g.precision))
                for g in found.guards
            ],
            auto_merges=found.auto_merges,
            undone_auto_merges=found.undone_auto_merges,
            proposal=ThresholdProposal(
                review_at=found.proposal.review_at,
                auto_merge_at=found.proposal.auto_merge_at,
                unreviewed_guards=list(found.proposal.unreviewed_guards),
                changes=found.proposal.changes(
                    found.review_at, found.auto_merge_at, found.unreviewed_guards
                ),
                reasons=list(found.proposal.reasons),
            ),
        )

    @strawberry.field(
        description="What thresholds and unreviewed guards would change before they are "
        "applied (the current ones where left out). BAD_USER_INPUT for an unknown guard. "
        "Role: steward."
    )
    async def match_threshold_dry_run(
        self,
        info: Info,
        review_at: float | None = None,
        auto_merge_at: float | None = None,
        unreviewed_guards: list[str] | None = None,
    ) -> MatchThresholdDryRun:
        ctx = info.context
        ctx.require(*STEWARD_ROLES)
        found = await ctx.transactions.read(
            lambda s: recalibration.dry_run_of(
                s,
                review_at=review_at,
                auto_merge_at=auto_merge_at,
                policy=ctx.policy,
                unreviewed_guards=unreviewed_guards,
            )
        )
        return MatchThresholdDryRun.from_model(found)

    @strawberry.field(description="Recalibrations of the match model, latest first. Role: steward.")
    async def match_model_changes(self, info: Info, first: int = 20) -> list[MatchModelChange]:
        ctx = info.context
        ctx.require(*STEWARD_ROLES)
        if not 1 <= first <= MAX_CHANGES:
            raise InvalidInput(f"first must be between 1 and {MAX_CHANGES}.", field="first")
        found = await ctx.transactions.read(lambda s: s.calibration.changes(limit=first))
        return [MatchModelChange.from_model(c) for c in found]


@strawberry.type
class CalibrationMutation:
    @strawberry.mutation(
        description="Apply new thresholds and unreviewed guards: a new model version (the "
        "current m/u with these settings), audited with the note and announced; online "
        "matching and batch jobs use it from then on (open tasks stay open). CONFLICT when "
        "the current model is not expectedModelVersion; BAD_USER_INPUT for thresholds "
        "outside 0 < reviewAt <= autoMergeAt <= 1, an unknown guard, nothing changed, or no "
        "note. Run matchThresholdDryRun first. Role: admin."
    )
    async def recalibrate_match_model(
        self,
        info: Info,
        *,
        review_at: float,
        auto_merge_at: float,
        note: str,
        expected_model_version: str | None = None,
        unreviewed_guards: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Guards whose pairs open no review task when one of them alone "
                "holds a pair back (matchCalibration proposes them); null keeps the current "
                "ones, an empty list reviews every guard again."
            ),
        ] = None,
    ) -> MatchModelChange:
        ctx = info.context
        principal = ctx.require(*ADMIN_ROLES)
        change = await recalibration.recalibrate(
            review_at=review_at,
            auto_merge_at=auto_merge_at,
            note=note,
            expected_version=expected_model_version,
            actor=principal.subject,
            policy=ctx.policy,
            transactions=ctx.transactions,
            now=datetime.now(UTC),
            unreviewed_guards=unreviewed_guards,
        )
        return MatchModelChange.from_model(change)
