from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext
from mdm_distribution.adapters.streams import ChangeStreams
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
