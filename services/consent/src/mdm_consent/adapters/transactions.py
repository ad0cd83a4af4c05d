"""Consent transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from mdm_common.graph import GraphClient, StoreTransactions, Transaction
from mdm_consent.adapters import (
    audit_store,
    graph_store,
    merge_store,
    purpose_store,
    request_store,
    retention_store,
)
from mdm_consent.adapters.audit_store import GraphAuditStore
from mdm_consent.adapters.graph_store import GraphConsentStore
from mdm_consent.adapters.merge_store import GraphMergeStore
from mdm_consent.adapters.purpose_store import GraphPurposeStore
from mdm_consent.adapters.request_store import GraphRequestStore
from mdm_consent.adapters.retention_store import GraphRetentionStore
from mdm_consent.domain.stores import Stores

SCHEMA = (
    *purpose_store.SCHEMA, *graph_store.SCHEMA, *audit_store.SCHEMA, *merge_store.SCHEMA,
    *request_store.SCHEMA, *retention_store.SCHEMA,
)  # fmt: skip


def stores_of(tx: Transaction) -> Stores:
    return Stores(
        purposes=GraphPurposeStore(tx), consents=GraphConsentStore(tx), audits=GraphAuditStore(tx),
        merges=GraphMergeStore(tx), requests=GraphRequestStore(tx),
        retention=GraphRetentionStore(tx),
    )  # fmt: skip


class GraphTransactions(StoreTransactions[Stores]):
    def __init__(self, graph: GraphClient) -> None:
        super().__init__(graph, stores_of)
