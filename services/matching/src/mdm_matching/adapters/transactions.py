"""Matching transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from mdm_common.graph import GraphClient, Transaction
from mdm_matching.adapters import graph_store, rematch_store
from mdm_matching.adapters.graph_store import GraphReviewStore, GraphSubjectStore
from mdm_matching.adapters.rematch_store import GraphRematchStore
from mdm_matching.domain.stores import Stores

T = TypeVar("T")

# Constraints and indexes of the whole matching graph.
SCHEMA = graph_store.SCHEMA + rematch_store.SCHEMA


def stores_of(tx: Transaction) -> Stores:
    return Stores(
        subjects=GraphSubjectStore(tx),
        reviews=GraphReviewStore(tx),
        rematch=GraphRematchStore(tx),
    )


class GraphTransactions:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await self._graph.read(lambda tx: work(stores_of(tx)))

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await self._graph.write(lambda tx: work(stores_of(tx)))
