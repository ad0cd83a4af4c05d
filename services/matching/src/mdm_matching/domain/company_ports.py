"""What company matching needs from the outside world: its store of companies, and
the profile service, which owns companies and executes their merges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mdm_common.auth import Principal
from mdm_matching.domain.engine.companies.features import CompanyRecord
from mdm_matching.domain.engine.companies.model import CompanyParameters
from mdm_matching.domain.models import CompanySubject


class CompanySubjectStore(Protocol):
    async def register(
        self, company_id: str, *, at: datetime, profile_created_at: datetime | None = None
    ) -> CompanySubject:
        """Idempotent: registering twice keeps the first registration."""
        ...

    async def get_many(self, company_ids: Sequence[str]) -> dict[str, CompanySubject]: ...

    async def save_features(
        self,
        record: CompanyRecord,
        *,
        keys: Sequence[str],
        fingerprint: str,
        at: datetime,
        sources: Sequence[str],
    ) -> None:
        """Store an active company's values and replace its blocking keys."""
        ...

    async def set_merged_into(self, company_id: str, survivor_id: str | None) -> None: ...

    async def sharing_keys(
        self,
        company_id: str,
        keys: Sequence[str],
        *,
        max_block: int,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[CompanyRecord]:
        """Active companies other than ``company_id`` and those in ``exclude`` sharing
        a key of a block not larger than ``max_block``, the ``limit`` most likely first."""
        ...

    async def first_seen_page(self, *, after: str, limit: int) -> list[CompanyRecord]:
        """Every company (merged away or not) with the values it was first seen with (its
        first record's own), by id after ``after``."""
        ...

    async def active_ids_page(self, *, after: str, limit: int) -> list[str]: ...

    async def load_model(self) -> CompanyParameters | None: ...

    async def model_version(self) -> str | None:
        """The current company model's version, without reading the model."""
        ...

    async def save_model(self, parameters: CompanyParameters, *, at: datetime) -> None:
        """Make ``parameters`` the current company model."""
        ...


@dataclass(frozen=True)
class CompanyView:
    """A company as the profile service shows it, ready for comparison."""

    requested_id: str
    record: CompanyRecord  # record.id is the survivor's when the requested one was merged
    created_at: datetime | None = None
    sources: tuple[str, ...] = ()  # empty: created by hand, never merged

    @property
    def merged_into(self) -> str | None:
        return self.record.id if self.record.id != self.requested_id else None


class CompanyProfiles(Protocol):
    """The profile service's companies."""

    async def fetch_company(self, company_id: str) -> CompanyView | None: ...

    async def fetch_companies(self, company_ids: Sequence[str]) -> dict[str, CompanyView]:
        """Companies by id in one call; unknown ids are left out."""
        ...

    async def merge_companies(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal
    ) -> str:
        """Merge two companies; returns the merge id."""
        ...

    async def merge_companies_many(
        self, pairs: Sequence[tuple[str, str]], *, reason: str, on_behalf_of: Principal
    ) -> list[str | None]:
        """Merge the (survivor, merged) pairs in one call and one transaction of the
        profile service, in order; per pair its merge id, or None when it was skipped
        (merged there or elsewhere before, or refused)."""
        ...

    async def unmerge_companies(self, merge_id: str, *, on_behalf_of: Principal) -> None: ...
