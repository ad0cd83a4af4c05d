from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_common.read_audit.service import ReadAudits
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.adapters.profile_client import ProfileClient
from mdm_matching.adapters.review_store import GraphReviewStore, candidates_from
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain.models import Decision, MatchCandidate, MatchSubject
from mdm_matching.domain.online import Policy, ScorerCache


@dataclass
class MatchingContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    profiles: ProfileClient = field(kw_only=True)
    policy: Policy = field(kw_only=True)
    scorers: ScorerCache = field(kw_only=True)
    transactions: GraphTransactions = field(kw_only=True)
    read_audits: ReadAudits = field(kw_only=True)
    subjects: DataLoader[str, MatchSubject | None] = field(init=False)
    candidates: DataLoader[str, list[MatchCandidate]] = field(init=False)
    task_decisions: DataLoader[str, list[Decision]] = field(init=False)

    def __post_init__(self) -> None:
        self.subjects = DataLoader(load_fn=self._load_subjects)
        self.candidates = DataLoader(load_fn=self._load_candidates)
        self.task_decisions = DataLoader(load_fn=self._load_task_decisions)

    async def _load_subjects(self, ids: Sequence[str]) -> list[MatchSubject | None]:
        found = await self.graph.read(lambda tx: GraphSubjectStore(tx).get_many(ids))
        self.read_persons(found.keys())
        return [found.get(i) for i in ids]

    async def _load_candidates(self, ids: Sequence[str]) -> list[list[MatchCandidate]]:
        tasks = await self.graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of(ids))
        found = candidates_from(tasks)
        # Who may be whose duplicate is personal data of both.
        self.read_persons(
            i
            for c in (c for cs in found.values() for c in cs)
            for i in (c.person_id, c.candidate_id)
        )
        return [found.get(i, []) for i in ids]

    async def _load_task_decisions(self, ids: Sequence[str]) -> list[list[Decision]]:
        found = await self.graph.read(lambda tx: GraphReviewStore(tx).decisions_of_tasks(ids))
        self.read_persons(i for ds in found.values() for d in ds for i in d.pair_key.split("|"))
        return [found.get(i, []) for i in ids]
