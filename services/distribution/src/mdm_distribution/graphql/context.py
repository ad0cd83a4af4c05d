from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_distribution.adapters.streams import ChangeStreams, StreamState
from mdm_distribution.adapters.transactions import GraphTransactions
from mdm_distribution.adapters.webhooks import WebhookSender
from mdm_distribution.domain.ports import ContactChecks
from mdm_distribution.domain.subscribers import WebhookRules
from mdm_distribution.exporting.export import ExportSource


@dataclass
class DistributionContext(RequestContext):
    graph: GraphClient = field(kw_only=True)
    transactions: GraphTransactions = field(kw_only=True)
    checks: ContactChecks = field(kw_only=True)
    streams: ChangeStreams = field(kw_only=True)
    sender: WebhookSender = field(kw_only=True)
    webhook_rules: WebhookRules = field(kw_only=True)
    secret_overlap: timedelta = field(kw_only=True)
    export_source: ExportSource = field(kw_only=True)
    export_dir: Path = field(kw_only=True)
    _stream_states: dict[str, StreamState] = field(init=False, default_factory=dict)

    async def stream_state(self, subscriber_id: str) -> StreamState:
        """A subscriber's stream as Redis tells it, read once a request (its fields
        ``stream`` and ``lag`` both need it)."""
        if subscriber_id not in self._stream_states:
            self._stream_states[subscriber_id] = await self.streams.state(subscriber_id)
        return self._stream_states[subscriber_id]
