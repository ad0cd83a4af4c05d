from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_consent.adapters.graph_store import GraphConsentStore
from mdm_consent.domain.models import ConsentEvent


@dataclass
class ConsentContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    histories: DataLoader[str, list[ConsentEvent]] = field(init=False)

    def __post_init__(self) -> None:
        self.histories = DataLoader(load_fn=self._load_histories)

    async def _load_histories(self, person_ids: Sequence[str]) -> list[list[ConsentEvent]]:
        found = await self.graph.read(lambda tx: GraphConsentStore(tx).history_of(person_ids))
        return [found.get(pid, []) for pid in person_ids]
