from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from strawberry.dataloader import DataLoader

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_consent.adapters.transactions import GraphTransactions
from mdm_consent.domain import audit
from mdm_consent.domain.consents import CLOCK_SKEW
from mdm_consent.domain.fulfilment import PrivacyServices
from mdm_consent.domain.models import ConsentEvent
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.purposes import PurposeCache
from mdm_consent.domain.rectification import ProfileRectifier
from mdm_consent.graphql.types import READ_ROLES


@dataclass
class ConsentContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    directory: PersonDirectory = field(kw_only=True)
    privacy: PrivacyServices = field(kw_only=True)
    transactions: GraphTransactions = field(kw_only=True)
    purposes: PurposeCache = field(kw_only=True)  # of the process, for the contact check
    # How far an event recorded "now" may lie from the server's clock (a setting).
    event_skew: timedelta = field(kw_only=True, default=CLOCK_SKEW)
    rectification: ProfileRectifier = field(kw_only=True)
    histories: DataLoader[str, list[ConsentEvent]] = field(init=False)

    def __post_init__(self) -> None:
        self.histories = DataLoader(load_fn=self._load_histories)

    async def _load_histories(self, person_ids: Sequence[str]) -> list[list[ConsentEvent]]:
        reader = self.require(*READ_ROLES)
        now = datetime.now(UTC)
        found = await self.transactions.write(
            lambda s: audit.read_histories(
                person_ids, s, reader=reader, operation="consent history", now=now
            )
        )
        return [found.get(pid, []) for pid in person_ids]
