"""Matching transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from mdm_common.contracts import EventRecorder
from mdm_common.graph import GraphClient, Transaction
from mdm_common.outbox import AfterCommit
from mdm_common.unit_of_work import SCHEMA as MESSAGING_SCHEMA
from mdm_common.unit_of_work import StoreTransactions, UnitOfWork
from mdm_matching.adapters import (
    calibration_store,
    company_subject_store,
    graph_store,
    rematch_store,
)
from mdm_matching.adapters.calibration_store import GraphCalibrationStore
from mdm_matching.adapters.company_subject_store import GraphCompanySubjectStore
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.adapters.privacy_store import GraphPrivacyStore
from mdm_matching.adapters.rematch_store import GraphRematchStore
from mdm_matching.adapters.review_store import GraphReviewStore
from mdm_matching.domain.stores import Stores

# Constraints and indexes of the whole matching graph.
SCHEMA = (
    MESSAGING_SCHEMA
    + graph_store.SCHEMA
    + rematch_store.SCHEMA
    + calibration_store.SCHEMA
    + company_subject_store.SCHEMA
)


def stores_of(tx: Transaction, events: EventRecorder) -> Stores:
    return Stores(
        subjects=GraphSubjectStore(tx),
        reviews=GraphReviewStore(tx),
        rematch=GraphRematchStore(tx),
        privacy=GraphPrivacyStore(tx),
        calibration=GraphCalibrationStore(tx),
        events=events,
        companies=GraphCompanySubjectStore(tx),
    )


class GraphTransactions(StoreTransactions[Stores]):
    """The matching unit of work; without ``after_commit`` the events a write records
    stay in the outbox for the matching subgraph's relay."""

    def __init__(self, graph: GraphClient, *, after_commit: AfterCommit | None = None) -> None:
        super().__init__(UnitOfWork(graph, after_commit=after_commit), stores_of)
