from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.domain.models import MatchCandidate, MatchSubject


@dataclass
class MatchingContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    subjects: DataLoader[str, MatchSubject | None] = field(init=False)
    candidates: DataLoader[str, list[MatchCandidate]] = field(init=False)

    def __post_init__(self) -> None:
        self.subjects = DataLoader(load_fn=self._load_subjects)
        self.candidates = DataLoader(load_fn=self._load_candidates)

    async def _load_subjects(self, ids: Sequence[str]) -> list[MatchSubject | None]:
        found = await self.graph.read(lambda tx: GraphSubjectStore(tx).get_many(ids))
        return [found.get(i) for i in ids]

    async def _load_candidates(self, ids: Sequence[str]) -> list[list[MatchCandidate]]:
        found = await self.graph.read(lambda tx: GraphSubjectStore(tx).candidates_of(ids))
        return [found.get(i, []) for i in ids]
