"""Per-request context: the caller, the unit of work, configuration and DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from mdm_common.graph import GraphClient, Transaction
from mdm_common.graphql import RequestContext
from mdm_common.read_audit.service import ReadAudits
from mdm_common.unit_of_work import UnitOfWork
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.domain.companies import Company, Employment, Subsidiary
from mdm_profile.domain.golden import Rule
from mdm_profile.domain.households import Household
from mdm_profile.domain.models import Person
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import Suppressor


@dataclass
class ProfileContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    unit_of_work: UnitOfWork = field(kw_only=True)
    sources: SourceRegistry = field(kw_only=True)
    rules: Mapping[str, Rule] = field(kw_only=True)
    suppressor: Suppressor = field(kw_only=True)
    household_by_family_name: bool = field(kw_only=True, default=True)
    read_audits: ReadAudits = field(kw_only=True)
    # Ingest transactions of this process take turns (one lock for the process): an
    # importer's batches in flight still overlap their parsing and cleaning with the
    # batch being stored, while ArcadeDB does not see concurrent ingests collide
    # (DeadlockDetected, or a record of another open transaction not found).
    ingest_turn: asyncio.Lock = field(kw_only=True, default_factory=asyncio.Lock)
    persons: DataLoader[str, Person | None] = field(init=False)
    records_of: DataLoader[str, list[CleanRecord]] = field(init=False)
    household_ids: DataLoader[str, str | None] = field(init=False)
    households: DataLoader[str, Household | None] = field(init=False)
    companies: DataLoader[str, Company | None] = field(init=False)
    ultimate_parents: DataLoader[str, Company | None] = field(init=False)
    # Keyed by (company id, depth): one query at the deepest depth asked for.
    subsidiaries: DataLoader[tuple[str, int], list[Subsidiary]] = field(init=False)
    employees: DataLoader[str, list[tuple[str, str]]] = field(init=False)
    employers: DataLoader[str, list[Employment]] = field(init=False)
    household_of: DataLoader[str, Household | None] = field(init=False)

    def __post_init__(self) -> None:
        self.persons = DataLoader(load_fn=self._load_persons)
        self.records_of = DataLoader(load_fn=self._load_records)
        self.household_ids = DataLoader(load_fn=self._load_household_ids)
        self.households = DataLoader(load_fn=self._load_households)
        self.household_of = DataLoader(load_fn=self._load_household_of)
        self.companies = DataLoader(load_fn=self._load_companies)
        self.ultimate_parents = DataLoader(load_fn=self._load_ultimate_parents)
        self.subsidiaries = DataLoader(load_fn=self._load_subsidiaries)
        self.employees = DataLoader(load_fn=self._load_employees)
        self.employers = DataLoader(load_fn=self._load_employers)

    def _loaders(self) -> tuple[DataLoader[Any, Any], ...]:
        return (
            self.persons, self.records_of, self.household_ids, self.households, self.household_of,
            self.companies, self.ultimate_parents, self.subsidiaries, self.employees,
            self.employers,
        )  # fmt: skip

    def forget_reads(self) -> None:
        """Drop what the DataLoaders hold; a mutation calls it after it has written."""
        for loader in self._loaders():
            loader.clear_all()

    def _read_members(self, households: Iterable[Household]) -> None:
        # Who lives with whom is personal data of each member.
        self.read_persons(m.person_id for h in households for m in h.members)

    def household_store(self, tx: Transaction) -> GraphHouseholdStore:
        return GraphHouseholdStore(tx, by_family_name=self.household_by_family_name)

    async def person_with_household(self, person_id: str) -> Person | None:
        """A person and its household in one read transaction (a person read asks for
        both more often than not), left in the two loaders for the resolvers."""

        async def work(tx: Transaction) -> tuple[dict[str, Person], dict[str, Household]]:
            persons = await GraphPersonStore(tx).get_many([person_id])
            return persons, await self.household_store(tx).households_of([person_id])

        persons, households = await self.graph.read(work)
        # Named as the two loaders name them: the audit sees the same persons.
        self.read_persons(persons.keys())
        self._read_members(households.values())
        self.persons.prime(person_id, persons.get(person_id))
        self.household_of.prime(person_id, households.get(person_id))
        return persons.get(person_id)

    async def _load_persons(self, ids: Sequence[str]) -> list[Person | None]:
        found = await self.graph.read(lambda tx: GraphPersonStore(tx).get_many(ids))
        self.read_persons(found.keys())
        return [found.get(i) for i in ids]

    async def _load_household_ids(self, ids: Sequence[str]) -> list[str | None]:
        found = await self.graph.read(lambda tx: self.household_store(tx).household_of(ids))
        return [found.get(i) for i in ids]

    async def _load_households(self, ids: Sequence[str]) -> list[Household | None]:
        found = await self.graph.read(lambda tx: self.household_store(tx).households(ids))
        self._read_members(found.values())
        return [found.get(i) for i in ids]

    async def _load_companies(self, ids: Sequence[str]) -> list[Company | None]:
        found = await self.graph.read(lambda tx: GraphCompanyStore(tx).get_many(ids))
        return [found.get(i) for i in ids]

    async def _load_ultimate_parents(self, ids: Sequence[str]) -> list[Company | None]:
        found = await self.graph.read(lambda tx: GraphCompanyStore(tx).ultimate_parents(ids))
        return [found.get(i) for i in ids]

    async def _load_subsidiaries(self, keys: Sequence[tuple[str, int]]) -> list[list[Subsidiary]]:
        ids = list(dict.fromkeys(company_id for company_id, _ in keys))
        deepest = max(depth for _, depth in keys)
        found = await self.graph.read(lambda tx: GraphCompanyStore(tx).subsidiaries(ids, deepest))
        return [[s for s in found[cid] if s.depth <= depth] for cid, depth in keys]

    async def _load_employees(self, ids: Sequence[str]) -> list[list[tuple[str, str]]]:
        found = await self.graph.read(lambda tx: GraphCompanyStore(tx).employees(ids))
        self.read_persons(person_id for staff in found.values() for person_id, _ in staff)
        return [found[i] for i in ids]

    async def _load_employers(self, ids: Sequence[str]) -> list[list[Employment]]:
        found = await self.graph.read(lambda tx: GraphCompanyStore(tx).employers(ids))
        return [found[i] for i in ids]

    async def _load_household_of(self, ids: Sequence[str]) -> list[Household | None]:
        found = await self.graph.read(lambda tx: self.household_store(tx).households_of(ids))
        self._read_members(found.values())
        return [found.get(i) for i in ids]

    async def _load_records(self, ids: Sequence[str]) -> list[list[CleanRecord]]:
        found = await self.graph.read(lambda tx: GraphPersonStore(tx).records_of_persons(ids))
        return [found.get(i, []) for i in ids]
