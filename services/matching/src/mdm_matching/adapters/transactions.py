"""Matching transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from mdm_common.graph import GraphClient, StoreTransactions, Transaction
from mdm_matching.adapters import graph_store, rematch_store
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.adapters.privacy_store import GraphPrivacyStore
from mdm_matching.adapters.rematch_store import GraphRematchStore
from mdm_matching.adapters.review_store import GraphReviewStore
from mdm_matching.domain.stores import Stores

# Constraints and indexes of the whole matching graph.
SCHEMA = graph_store.SCHEMA + rematch_store.SCHEMA


def stores_of(tx: Transaction) -> Stores:
    return Stores(
        subjects=GraphSubjectStore(tx), reviews=GraphReviewStore(tx),
        rematch=GraphRematchStore(tx), privacy=GraphPrivacyStore(tx),
    )  # fmt: skip


class GraphTransactions(StoreTransactions[Stores]):
    def __init__(self, graph: GraphClient) -> None:
        super().__init__(graph, stores_of)
