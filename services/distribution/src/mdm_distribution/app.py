"""Wires the distribution service. Run with uvicorn --factory."""

from __future__ import annotations

from datetime import timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from mdm_common.auth import Principal
from mdm_common.events import make_celery
from mdm_common.graph import graph_client_from
from mdm_common.graphql import create_app as create_subgraph_app
from mdm_common.graphql import schema_extensions
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.unit_of_work import relay_for
from mdm_distribution.adapters.consent_client import ConsentChecks
from mdm_distribution.adapters.delivery import DeliveryLoop
from mdm_distribution.adapters.profile_client import ProfileRecords
from mdm_distribution.adapters.streams import ChangeStreams, Leadership, StreamRelay
from mdm_distribution.adapters.transactions import SCHEMA, GraphTransactions
from mdm_distribution.adapters.webhooks import WebhookDispatcher, WebhookPolicy, WebhookSender
from mdm_distribution.domain.subscribers import WebhookRules
from mdm_distribution.exporting.sources import ServiceSource
from mdm_distribution.graphql.context import DistributionContext
from mdm_distribution.graphql.schema import build_schema
from mdm_distribution.settings import DistributionSettings


def create_app() -> Starlette:
    settings = DistributionSettings()
    graph = graph_client_from(settings)
    secret = settings.gateway_secret.get_secret_value().encode()
    consent_http = SubgraphClient(settings.consent_url, secret=secret)
    profile_http = SubgraphClient(settings.profile_url, secret=secret)
    checks = ConsentChecks(consent_http)
    export_source = ServiceSource(ProfileRecords(profile_http), checks)
    celery = make_celery(
        "distribution-api",
        settings.broker_url,
        visibility_timeout_s=settings.broker_visibility_timeout_s,
    )
    relay = relay_for(graph, celery)
    transactions = GraphTransactions(
        graph, stream_prefix=settings.stream_prefix, after_commit=relay.committed
    )
    streams = ChangeStreams(
        settings.stream_redis_url,
        prefix=settings.stream_prefix,
        max_entries=settings.stream_max_entries,
    )
    webhook_http = httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False)
    sender = WebhookSender(graph, webhook_http)
    delivery = DeliveryLoop(
        Leadership(streams),
        StreamRelay(graph, streams, poll_s=settings.stream_poll_s),
        WebhookDispatcher(
            graph,
            streams,
            sender,
            policy=WebhookPolicy(
                timeout_s=settings.webhook_timeout_s,
                attempts=settings.webhook_attempts,
                first_retry_s=settings.webhook_first_retry_s,
                max_retry_s=settings.webhook_max_retry_s,
            ),
        ),
    )
    rules = WebhookRules(tuple(settings.webhook_plain_http_hosts))
    overlap = timedelta(seconds=settings.webhook_secret_overlap_s)

    async def start() -> None:
        await relay.start()
        await delivery.start()

    async def close() -> None:
        await delivery.stop()
        await relay.stop()
        await consent_http.close()
        await profile_http.close()
        await webhook_http.aclose()
        await streams.close()

    async def context(
        request: Request, response: Response | None, principal: Principal | None
    ) -> DistributionContext:
        return DistributionContext(
            request=request,
            response=response,
            principal=principal,
            graph=graph,
            transactions=transactions,
            checks=checks,
            streams=streams,
            sender=sender,
            webhook_rules=rules,
            secret_overlap=overlap,
            export_source=export_source,
            export_dir=settings.export_dir,
        )

    return create_subgraph_app(
        settings=settings,
        schema=build_schema(schema_extensions(settings)),
        graph=graph,
        schema_statements=SCHEMA,
        context_factory=context,
        on_startup=start,
        on_shutdown=close,
    )
