"""Per-request context: the caller, the unit of work, configuration and DataLoaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from mdm_common.events import Outbox
from mdm_common.graph import GraphClient, Transaction
from mdm_common.graphql import RequestContext
from mdm_common.unit_of_work import UnitOfWork
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.domain.golden import Rule
from mdm_profile.domain.households import Household
from mdm_profile.domain.models import Person
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.sources import SourceRegistry


@dataclass
class ProfileContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    outbox: Outbox = field(kw_only=True)
    sources: SourceRegistry = field(kw_only=True)
    rules: Mapping[str, Rule] = field(kw_only=True)
    household_by_family_name: bool = field(kw_only=True, default=True)
    persons: DataLoader[str, Person | None] = field(init=False)
    records_of: DataLoader[str, list[CleanRecord]] = field(init=False)
    household_ids: DataLoader[str, str | None] = field(init=False)
    household_of: DataLoader[str, Household | None] = field(init=False)

    def __post_init__(self) -> None:
        self.persons = DataLoader(load_fn=self._load_persons)
        self.records_of = DataLoader(load_fn=self._load_records)
        self.household_ids = DataLoader(load_fn=self._load_household_ids)
        self.household_of = DataLoader(load_fn=self._load_household_of)

    def household_store(self, tx: Transaction) -> GraphHouseholdStore:
        return GraphHouseholdStore(tx, by_family_name=self.household_by_family_name)

    async def read_households(self, ids: Sequence[str]) -> dict[str, Household]:
        return await self.graph.read(lambda tx: self.household_store(tx).households(ids))

    @property
    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.graph, self.outbox)

    async def _load_persons(self, ids: Sequence[str]) -> list[Person | None]:
        found = await self.graph.read(lambda tx: GraphPersonStore(tx).get_many(ids))
        return [found.get(i) for i in ids]

    async def _load_household_ids(self, ids: Sequence[str]) -> list[str | None]:
        found = await self.graph.read(lambda tx: self.household_store(tx).household_of(ids))
        return [found.get(i) for i in ids]

    async def _load_household_of(self, ids: Sequence[str]) -> list[Household | None]:
        found = await self.graph.read(lambda tx: self.household_store(tx).households_of(ids))
        return [found.get(i) for i in ids]

    async def _load_records(self, ids: Sequence[str]) -> list[list[CleanRecord]]:
        found = await self.graph.read(lambda tx: GraphPersonStore(tx).records_of_persons(ids))
        return [found.get(i, []) for i in ids]
