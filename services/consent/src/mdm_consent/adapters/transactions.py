"""Consent transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from mdm_common.contracts import EventRecorder
from mdm_common.graph import GraphClient, Transaction
from mdm_common.outbox import AfterCommit
from mdm_common.unit_of_work import SCHEMA as MESSAGING_SCHEMA
from mdm_common.unit_of_work import StoreTransactions, UnitOfWork
from mdm_consent.adapters import (
    audit_store,
    contact_use_store,
    duty_store,
    expiry_store,
    graph_store,
    merge_store,
    processing_store,
    purpose_store,
    request_store,
    retention_store,
)
from mdm_consent.adapters.audit_store import GraphAuditStore
from mdm_consent.adapters.contact_use_store import GraphContactUseStore
from mdm_consent.adapters.duty_store import GraphDutyStore
from mdm_consent.adapters.expiry_store import GraphExpiryStore
from mdm_consent.adapters.graph_store import GraphConsentStore
from mdm_consent.adapters.merge_store import GraphMergeStore
from mdm_consent.adapters.processing_store import GraphProcessingStore
from mdm_consent.adapters.purpose_store import GraphPurposeStore
from mdm_consent.adapters.request_store import GraphRequestStore
from mdm_consent.adapters.retention_store import GraphRetentionStore
from mdm_consent.domain.stores import Stores

SCHEMA = (
    *MESSAGING_SCHEMA,
    *purpose_store.SCHEMA,
    *graph_store.SCHEMA,
    *audit_store.SCHEMA,
    *merge_store.SCHEMA,
    *request_store.SCHEMA,
    *retention_store.SCHEMA,
    *expiry_store.SCHEMA,
    *processing_store.SCHEMA,
    *duty_store.SCHEMA,
    *contact_use_store.SCHEMA,
)


def stores_of(tx: Transaction, events: EventRecorder) -> Stores:
    return Stores(
        purposes=GraphPurposeStore(tx),
        consents=GraphConsentStore(tx),
        audits=GraphAuditStore(tx),
        merges=GraphMergeStore(tx),
        requests=GraphRequestStore(tx),
        retention=GraphRetentionStore(tx),
        processing=GraphProcessingStore(tx),
        events=events,
        expiries=GraphExpiryStore(tx),
        duties=GraphDutyStore(tx),
        contact_uses=GraphContactUseStore(tx),
    )


class GraphTransactions(StoreTransactions[Stores]):
    """The consent unit of work; without ``after_commit`` the events a write records
    stay in the outbox for the consent subgraph's relay."""

    def __init__(self, graph: GraphClient, *, after_commit: AfterCommit | None = None) -> None:
        super().__init__(UnitOfWork(graph, after_commit=after_commit), stores_of)
