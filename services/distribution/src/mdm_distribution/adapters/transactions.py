"""Distribution transactions on the graph: the stores of one transaction, bundled."""

from __future__ import annotations

from mdm_common.contracts import EventRecorder
from mdm_common.graph import GraphClient, Transaction
from mdm_common.inbox import InboxStore
from mdm_common.outbox import AfterCommit
from mdm_common.unit_of_work import SCHEMA as MESSAGING_SCHEMA
from mdm_common.unit_of_work import StoreTransactions, UnitOfWork
from mdm_distribution.adapters import (
    dead_letter_store,
    export_store,
    message_store,
    recipient_store,
    subscriber_store,
)
from mdm_distribution.adapters.export_store import GraphExportJobStore
from mdm_distribution.adapters.message_store import GraphMessageStore
from mdm_distribution.adapters.recipient_store import GraphRecipientStore
from mdm_distribution.adapters.subscriber_store import GraphSubscriberStore
from mdm_distribution.domain.stores import Stores

SCHEMA = (
    *MESSAGING_SCHEMA,
    *subscriber_store.SCHEMA,
    *recipient_store.SCHEMA,
    *message_store.SCHEMA,
    *dead_letter_store.SCHEMA,
    *export_store.SCHEMA,
)


class GraphTransactions(StoreTransactions[Stores]):
    """``stream_prefix``: the key prefix of the streams its messages go to (a setting)."""

    def __init__(
        self,
        graph: GraphClient,
        *,
        stream_prefix: str,
        after_commit: AfterCommit | None = None,
    ) -> None:
        def stores_of(tx: Transaction, events: EventRecorder) -> Stores:
            return Stores(
                subscribers=GraphSubscriberStore(tx),
                recipients=GraphRecipientStore(tx),
                messages=GraphMessageStore(tx, stream_prefix=stream_prefix),
                exports=GraphExportJobStore(tx),
                events=events,
                inbox=InboxStore(tx),
            )

        super().__init__(UnitOfWork(graph, after_commit=after_commit), stores_of)
