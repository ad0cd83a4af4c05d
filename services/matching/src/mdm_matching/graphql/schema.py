"""The matching subgraph: match state and candidates of a person, the steward review queue."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import InvalidInput, NotFound
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_common.text import fold
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.domain import models as m
from mdm_matching.domain import online, recalibration, review, training
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.graphql.calibration import CalibrationMutation, CalibrationQuery
from mdm_matching.graphql.context import MatchingContext
from mdm_matching.graphql.privacy import PrivacyMutation, PrivacyQuery
from mdm_matching.graphql.rematch import RematchMutation, RematchQuery

Info = strawberry.Info[MatchingContext, None]

STATUS_ROLES = (Role.APP, Role.STEWARD)
STEWARD_ROLES = (Role.STEWARD,)
MAX_PAGE = 100


@strawberry.type(description="Whether the matching service knows this person yet.")
class MatchingState:
    registered: bool
    registered_at: datetime | None
    merged_into: strawberry.ID | None = strawberry.field(
        description="Set when this person was merged into another (profile's merge event)."
    )
    compared_at: datetime | None = strawberry.field(
        default=None, description="When its current values were last matched."
    )
    restricted: bool = strawberry.field(
        default=False, description="Processing restricted (GDPR Art. 18): not matched."
    )


@strawberry.type(description="Another profile that may be the same person (an open review).")
class MatchCandidate:
    person_id: strawberry.ID
    score: float = strawberry.field(description="Match probability, 0 to 1.")


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID

    @strawberry.field(description="Registration for matching. Roles: app, steward.")
    async def matching(self, info: Info) -> MatchingState:
        info.context.require(*STATUS_ROLES)
        return _state(await info.context.subjects.load(str(self.id)))

    @strawberry.field(description="Possible duplicates awaiting review, best first. Role: steward.")
    async def match_candidates(self, info: Info) -> list[MatchCandidate]:
        info.context.require(*STEWARD_ROLES)
        found = await info.context.candidates.load(str(self.id))
        return [
            MatchCandidate(person_id=strawberry.ID(c.candidate_id), score=c.score) for c in found
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Person:  # noqa: A002 - federation key name
        return cls(id=id)


@strawberry.federation.type(keys=["id"])
class Company:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Company:  # noqa: A002 - federation key name
        return cls(id=id)


@strawberry.type(description="What the matching service knows about one person id.")
class MatchSubject:
    person_id: strawberry.ID
    state: MatchingState


def _state(subject: m.MatchSubject | None) -> MatchingState:
    return MatchingState(
        registered=subject is not None,
        registered_at=subject.registered_at if subject else None,
        merged_into=strawberry.ID(subject.merged_into) if subject and subject.merged_into else None,
        compared_at=subject.compared_at if subject else None,
        restricted=subject.restricted if subject else False,
    )


ReviewStatus = strawberry.enum(
    m.TaskStatus, name="ReviewStatus", description="Where a review task stands."
)
ReviewReason = strawberry.enum(
    m.TaskReason, name="ReviewReason", description="Why the engine asks a steward."
)
Verdict = strawberry.enum(m.Verdict, description="What was decided about a pair.")
MatchSubjectKind = strawberry.enum(
    m.SubjectKind, name="MatchSubjectKind", description="A pair of persons, or of companies."
)


@strawberry.enum(description="What a steward may decide on a review task.")
class StewardDecision(Enum):
    MERGE = "MERGE"
    NOT_A_MATCH = "NOT_A_MATCH"
    DEFER = "DEFER"


@strawberry.type(description="How much one field said for (positive) or against a match.")
class FieldContribution:
    comparison: str
    level: str | None = strawberry.field(description="null: one side does not know the value.")
    weight: float = strawberry.field(description="Match weight in bits (log2 Bayes factor).")


def _explanation(contributions: Sequence[Contribution]) -> list[FieldContribution]:
    return [
        FieldContribution(comparison=c.comparison, level=c.level, weight=c.weight)
        for c in contributions
    ]


_SIDE = (
    "The profile of this side; null for a pair of companies, or when the profile no longer "
    "holds the person (it was erased); leftId and rightId keep the ids."
)
_COMPANY_SIDE = "The company of this side, for a pair of companies (kind COMPANY); else null."


def _sides(kind: m.SubjectKind, left: str, right: str) -> dict[str, Any]:
    """The left, right, leftCompany and rightCompany of a pair."""
    if kind == m.SubjectKind.COMPANY:
        persons: list[Person | None] = [None, None]
        companies: list[Company | None] = [Company(id=strawberry.ID(i)) for i in (left, right)]
    else:
        persons = [Person(id=strawberry.ID(i)) for i in (left, right)]
        companies = [None, None]
    return {
        "kind": kind,
        "left_id": strawberry.ID(left),
        "right_id": strawberry.ID(right),
        "left": persons[0],
        "right": persons[1],
        "left_company": companies[0],
        "right_company": companies[1],
    }


@strawberry.type(description="One audit entry: who decided what about a pair, when.")
class MatchDecision:
    id: strawberry.ID
    verdict: Verdict  # type: ignore[valid-type]
    actor: str
    at: datetime
    note: str
    task_id: strawberry.ID | None
    merge_id: strawberry.ID | None = strawberry.field(
        description="The profile service's merge (for MERGE, AUTO_MERGE and UNMERGE)."
    )
    probability: float | None
    kind: MatchSubjectKind  # type: ignore[valid-type]
    left_id: strawberry.ID
    right_id: strawberry.ID
    left: Person | None = strawberry.field(description=_SIDE)
    right: Person | None = strawberry.field(description=_SIDE)
    left_company: Company | None = strawberry.field(description=_COMPANY_SIDE)
    right_company: Company | None = strawberry.field(description=_COMPANY_SIDE)
    explanation: list[FieldContribution] = strawberry.field(
        description="Each field's contribution to the score when decided (empty for "
        "decisions recorded before matching kept it)."
    )
    conflicts: list[str] = strawberry.field(
        description="Identity guards that fired on the pair when decided."
    )
    model_version: str | None = strawberry.field(
        default=None, description="The model that scored the pair; null: not recorded then."
    )

    @classmethod
    def from_model(cls, d: m.Decision) -> MatchDecision:
        left, right = d.pair_key.split("|")
        return cls(
            explanation=_explanation(d.contributions),
            conflicts=list(d.conflicts), model_version=d.model_version,
            id=strawberry.ID(d.id), verdict=d.verdict, actor=d.actor, at=d.at, note=d.note,
            task_id=strawberry.ID(d.task_id) if d.task_id else None,
            merge_id=strawberry.ID(d.merge_id) if d.merge_id else None,
            probability=d.probability, **_sides(d.kind, left, right),
        )  # fmt: skip


@strawberry.type(
    description="A pair the engine is unsure about: both profiles side by side with the "
    "contribution of each field to the score."
)
class ReviewTask:
    id: strawberry.ID
    kind: MatchSubjectKind  # type: ignore[valid-type]
    left_id: strawberry.ID
    right_id: strawberry.ID
    left: Person | None = strawberry.field(description=_SIDE)
    right: Person | None = strawberry.field(description=_SIDE)
    left_company: Company | None = strawberry.field(description=_COMPANY_SIDE)
    right_company: Company | None = strawberry.field(description=_COMPANY_SIDE)
    probability: float
    match_weight: float
    reason: ReviewReason  # type: ignore[valid-type]
    status: ReviewStatus  # type: ignore[valid-type]
    explanation: list[FieldContribution]
    conflicts: list[str] = strawberry.field(
        description="Identity guards that keep the pair from an automatic merge."
    )
    created_at: datetime
    updated_at: datetime
    note: str | None
    assignee: str | None = strawberry.field(
        default=None, description="The steward working on it (principal subject); null: nobody."
    )
    assigned_at: datetime | None = None
    model_version: str | None = strawberry.field(
        default=None,
        description="The model (version) that scored the pair; null: not recorded then.",
    )

    @strawberry.field(description="Decisions taken on this task, oldest first.")
    async def decisions(self, info: Info) -> list[MatchDecision]:
        found = await info.context.task_decisions.load(str(self.id))
        return [MatchDecision.from_model(d) for d in found]

    @classmethod
    def from_model(cls, t: m.ReviewTask) -> ReviewTask:
        e = t.evidence
        return cls(
            id=strawberry.ID(t.id), **_sides(e.kind, e.left_id, e.right_id),
            probability=e.probability,
            match_weight=e.weight, reason=t.reason, status=t.status,
            explanation=_explanation(e.contributions),
            conflicts=list(e.conflicts), created_at=t.created_at, updated_at=t.updated_at,
            note=t.note, assignee=t.assignee, assigned_at=t.assigned_at,
            model_version=e.model_version,
        )  # fmt: skip


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ReviewTaskEdge:
    cursor: str
    node: ReviewTask


@strawberry.type
class ReviewTaskConnection:
    edges: list[ReviewTaskEdge]
    page_info: PageInfo
    wanted: strawberry.Private[m.TaskFilter]

    @strawberry.field(description="The number of tasks matching the filters.")
    async def total_count(self, info: Info) -> int:
        wanted = self.wanted
        return await info.context.transactions.read(lambda s: s.reviews.count_tasks(wanted))


ReviewTaskOrder = strawberry.enum(
    m.TaskOrder, name="ReviewTaskOrder", description="How the review queue is sorted."
)


@strawberry.type(description="How many tasks a review queue holds.")
class ReviewReasonCount:
    reason: ReviewReason  # type: ignore[valid-type]
    count: int


@strawberry.type(description="The unresolved review tasks counted.")
class ReviewQueueSummary:
    open: int
    deferred: int
    by_reason: list[ReviewReasonCount] = strawberry.field(
        description="OPEN and DEFERRED tasks by reason."
    )


def _cursor(order: m.TaskOrder, sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([order.value, sort_key]).encode()).decode()


def _after(cursor: str | None, order: m.TaskOrder) -> str | None:
    if not cursor:
        return None
    try:
        cursor_order, sort_key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput("after is not a cursor from this queue.", field="after") from exc
    if cursor_order != order.value or not isinstance(sort_key, str):
        raise InvalidInput("after is a cursor of another order of the queue.", field="after")
    return sort_key


@strawberry.type
class Query(RematchQuery, PrivacyQuery, CalibrationQuery):
    @strawberry.field(description="A person id as matching sees it, merged or not. Role: steward.")
    async def match_subject(self, info: Info, person_id: strawberry.ID) -> MatchSubject:
        info.context.require(*STEWARD_ROLES)
        subject = await info.context.subjects.load(str(person_id))
        return MatchSubject(person_id=person_id, state=_state(subject))

    @strawberry.field(description="Number of persons registered for matching. Role: steward.")
    async def match_subject_count(self, info: Info) -> int:
        info.context.require(*STEWARD_ROLES)
        return await info.context.graph.read(lambda tx: GraphSubjectStore(tx).count())

    @strawberry.field(
        description="The review queue, most probable duplicates first unless orderBy says "
        "otherwise (MOST_INFORMATIVE: the score bands whose precision steward decisions know "
        "least first, see matchCalibration); by default the OPEN and DEFERRED tasks. "
        "Role: steward."
    )
    async def review_tasks(  # noqa: PLR0917 - the queue's filters
        self,
        info: Info,
        statuses: list[ReviewStatus] | None = None,  # type: ignore[valid-type]
        min_probability: float = 0.0,
        person_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
        reasons: list[ReviewReason] | None = None,  # type: ignore[valid-type]
        max_probability: float = 1.0,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        source: str | None = None,
        assigned_to: str | None = None,
        name: Annotated[
            str | None,
            strawberry.argument(
                description="A family name prefix of either person (case and umlauts folded)."
            ),
        ] = None,
        order_by: ReviewTaskOrder = m.TaskOrder.PROBABILITY_DESC,  # type: ignore[valid-type]
        kind: Annotated[
            MatchSubjectKind | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only pairs of persons, or of companies."),
        ] = None,
        company_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only pairs with this company on a side."),
        ] = None,
    ) -> ReviewTaskConnection:
        info.context.require(*STEWARD_ROLES)
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
        if not 0 <= min_probability <= max_probability <= 1:
            raise InvalidInput(
                "minProbability and maxProbability must hold 0 <= min <= max <= 1.",
                field="minProbability",
            )
        folded = fold(name) if name is not None else None
        if name is not None and not folded:
            raise InvalidInput("name needs at least one letter.", field="name")
        if person_id and company_id:
            raise InvalidInput("Ask for a person or a company, not both.", field="companyId")
        wanted = m.TaskFilter(
            statuses=tuple(statuses or m.UNRESOLVED),
            reasons=tuple(reasons) if reasons else None,
            min_probability=min_probability,
            max_probability=max_probability,
            created_after=created_after,
            created_before=created_before,
            person_id=str(person_id or company_id) if person_id or company_id else None,
            source=source,
            assignee=assigned_to,
            family_prefix=folded,
            kind=m.SubjectKind(kind) if kind is not None else None,
        )
        order = m.TaskOrder(order_by)
        cursor = _after(after, order)
        policy = info.context.policy
        if order == m.TaskOrder.MOST_INFORMATIVE:
            page = await info.context.transactions.read(
                lambda s: recalibration.most_informative(
                    s, wanted, policy=policy, after=cursor, limit=first
                )
            )
        else:
            page = await info.context.transactions.read(
                lambda s: s.reviews.tasks(wanted, order=order, after=cursor, limit=first)
            )
        _read_tasks(info, page.tasks)
        edges = [
            ReviewTaskEdge(cursor=_cursor(order, key), node=ReviewTask.from_model(t))
            for t, key in zip(page.tasks, page.sort_keys, strict=True)
        ]
        return ReviewTaskConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_more, end_cursor=edges[-1].cursor if edges else None
            ),
            wanted=wanted,
        )

    @strawberry.field(description="The unresolved review tasks counted. Role: steward.")
    async def review_queue_summary(
        self, info: Info, assigned_to: str | None = None
    ) -> ReviewQueueSummary:
        info.context.require(*STEWARD_ROLES)
        found = await info.context.transactions.read(
            lambda s: s.reviews.summary(assignee=assigned_to)
        )
        return ReviewQueueSummary(
            open=found.open,
            deferred=found.deferred,
            by_reason=[
                ReviewReasonCount(reason=reason, count=count)
                for reason, count in found.by_reason.items()
            ],
        )

    @strawberry.field(
        description="Every decision about pairs involving a person, oldest first: automatic "
        "merges, steward decisions, undone merges. Role: steward."
    )
    async def match_decisions(self, info: Info, person_id: strawberry.ID) -> list[MatchDecision]:
        info.context.require(*STEWARD_ROLES)
        found = await info.context.transactions.read(
            lambda s: s.reviews.decisions_of_person(str(person_id))
        )
        info.context.read_persons([str(person_id)])
        _read_decisions(info, found)
        return [MatchDecision.from_model(d) for d in found]

    @strawberry.field(
        description="Every decision about pairs involving a company, oldest first: automatic "
        "merges, steward decisions, undone merges. Role: steward."
    )
    async def company_match_decisions(
        self, info: Info, company_id: strawberry.ID
    ) -> list[MatchDecision]:
        info.context.require(*STEWARD_ROLES)
        found = await info.context.transactions.read(
            lambda s: s.reviews.decisions_of_person(str(company_id))
        )
        return [MatchDecision.from_model(d) for d in found if d.kind == m.SubjectKind.COMPANY]

    @strawberry.field(description="A model training job; NOT_FOUND if unknown. Role: steward.")
    async def match_training_job(self, info: Info, id: strawberry.ID) -> MatchTrainingJob:  # noqa: A002 - GraphQL argument name
        info.context.require(*STEWARD_ROLES)
        job = await info.context.transactions.read(lambda s: s.subjects.get_job(str(id)))
        if job is None:
            raise NotFound(f"No training job with id {id}.", field="id")
        return MatchTrainingJob.from_model(job)

    @strawberry.field(description="One review task; NOT_FOUND if unknown. Role: steward.")
    async def review_task(self, info: Info, id: strawberry.ID) -> ReviewTask:  # noqa: A002 - GraphQL argument name
        info.context.require(*STEWARD_ROLES)
        task = await info.context.transactions.read(lambda s: s.reviews.get_task(str(id)))
        if task is None:
            raise NotFound(f"No review task with id {id}.", field="id")
        _read_tasks(info, [task])
        return ReviewTask.from_model(task)


@strawberry.type(description="What matching a person again found.")
class MatchResult:
    person_id: strawberry.ID
    candidates: int
    merged_into: strawberry.ID | None
    review_task_ids: list[strawberry.ID]


TrainingStatus = strawberry.enum(training.JobStatus, name="MatchTrainingStatus")


@strawberry.type(description="Training of the match model on the data itself (EM, no labels).")
class MatchTrainingJob:
    id: strawberry.ID
    status: TrainingStatus  # type: ignore[valid-type]
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    subjects: int = strawberry.field(description="Profiles the model was trained on.")
    candidate_pairs: int
    model_version: str | None
    error: str | None = strawberry.field(description="Error type when FAILED.")
    companies: int = strawberry.field(
        default=0, description="Companies the company model was trained on."
    )
    company_model_version: str | None = strawberry.field(
        default=None,
        description="The company model trained (every company was then matched again with "
        "it); null: fewer than 1,000 companies, the model is unchanged.",
    )

    @classmethod
    def from_model(cls, j: training.TrainingJob) -> MatchTrainingJob:
        return cls(
            id=strawberry.ID(j.id), status=j.status, requested_by=j.requested_by,
            requested_at=j.requested_at, finished_at=j.finished_at, subjects=j.subjects,
            candidate_pairs=j.candidate_pairs, model_version=j.model_version, error=j.error,
            companies=j.companies, company_model_version=j.company_model_version,
        )  # fmt: skip


@strawberry.type
class Mutation(RematchMutation, PrivacyMutation, CalibrationMutation):
    @strawberry.mutation(
        description="Train the match model on all profiles now (a background job); online "
        "matching uses the new model once it is done. Role: steward."
    )
    async def start_match_training(self, info: Info) -> MatchTrainingJob:
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        job = training.TrainingJob(
            id=str(uuid.uuid4()), status=training.JobStatus.QUEUED,
            requested_by=principal.subject, requested_at=datetime.now(UTC),
        )  # fmt: skip
        await ctx.transactions.write(lambda s: training.request(job, s))
        return MatchTrainingJob.from_model(job)

    @strawberry.mutation(
        description="Match a person again now (as on ingest): merges above the upper threshold, "
        "opens review tasks between the thresholds. Role: steward."
    )
    async def rematch_person(self, info: Info, person_id: strawberry.ID) -> MatchResult:
        ctx = info.context
        ctx.require(*STEWARD_ROLES)
        outcome = await online.match_person(
            str(person_id), profiles=ctx.profiles, transactions=ctx.transactions,
            policy=ctx.policy, scorers=ctx.scorers, now=datetime.now(UTC),
        )  # fmt: skip
        return MatchResult(
            person_id=person_id, candidates=outcome.candidates,
            merged_into=strawberry.ID(outcome.merged_into) if outcome.merged_into else None,
            review_task_ids=[strawberry.ID(t) for t in outcome.review_tasks],
        )  # fmt: skip

    @strawberry.mutation(
        description="Decide a review task: MERGE (through the profile service), NOT_A_MATCH "
        "(remembered while neither record changes), or DEFER. Audited. Role: steward."
    )
    async def decide_review_task(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        decision: StewardDecision,
        note: str = "",
    ) -> MatchDecision:
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        found = await review.decide(
            str(id), m.Verdict(decision.value), note=note, actor=principal,
            profiles=ctx.profiles, transactions=ctx.transactions, now=datetime.now(UTC),
        )  # fmt: skip
        _read_decisions(info, [found])
        return MatchDecision.from_model(found)

    @strawberry.mutation(
        description="Take an unresolved review task to work on it (idempotent); CONFLICT if "
        "another steward holds it. Role: steward."
    )
    async def assign_review_task(self, info: Info, id: strawberry.ID) -> ReviewTask:  # noqa: A002 - GraphQL argument name
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        task = await review.assign(
            str(id), actor=principal, transactions=ctx.transactions, now=datetime.now(UTC)
        )
        _read_tasks(info, [task])
        return ReviewTask.from_model(task)

    @strawberry.mutation(
        description="Give a review task back to the queue: its assignee or an admin. Role: steward."
    )
    async def release_review_task(self, info: Info, id: strawberry.ID) -> ReviewTask:  # noqa: A002 - GraphQL argument name
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        task = await review.release(
            str(id), actor=principal, transactions=ctx.transactions, now=datetime.now(UTC)
        )
        _read_tasks(info, [task])
        return ReviewTask.from_model(task)

    @strawberry.mutation(
        description="Undo the merge a MERGE or AUTO_MERGE decision made (the profile service "
        "unmerges exactly); the pair is then remembered as not a match. Role: steward."
    )
    async def undo_merge(
        self, info: Info, decision_id: strawberry.ID, note: str = ""
    ) -> MatchDecision:
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        found = await review.undo_merge(
            str(decision_id), note=note, actor=principal, profiles=ctx.profiles,
            transactions=ctx.transactions, now=datetime.now(UTC),
        )  # fmt: skip
        _read_decisions(info, [found])
        return MatchDecision.from_model(found)


def _read_tasks(info: Info, tasks: Iterable[m.ReviewTask]) -> None:
    """A task shows both persons' compared values: a read of both (audited). A pair of
    companies reads no person."""
    info.context.read_persons(
        i
        for t in tasks
        if t.evidence.kind == m.SubjectKind.PERSON
        for i in (t.evidence.left_id, t.evidence.right_id)
    )


def _read_decisions(info: Info, decisions: Iterable[m.Decision]) -> None:
    info.context.read_persons(
        i for d in decisions if d.kind == m.SubjectKind.PERSON for i in d.pair_key.split("|")
    )


def build_schema(extensions: Sequence[Extension] = ()) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person, Company], extensions=list(extensions)
    )
