"""Wires the matching service. Run with uvicorn --factory."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from mdm_common.auth import Principal
from mdm_common.events import make_celery
from mdm_common.graph import graph_client_from
from mdm_common.graphql import create_app as create_subgraph_app
from mdm_common.graphql import schema_extensions
from mdm_common.metrics import Gauges
from mdm_common.read_audit.service import ReadAudits
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.unit_of_work import relay_for
from mdm_matching.adapters.metrics import review_queue_size
from mdm_matching.adapters.profile_client import ProfileClient
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain.online import ScorerCache
from mdm_matching.graphql.context import MatchingContext
from mdm_matching.graphql.schema import build_schema
from mdm_matching.settings import MatchingSettings


def create_app() -> Starlette:
    settings = MatchingSettings()
    graph = graph_client_from(settings)
    profile_http = SubgraphClient(
        settings.profile_url, secret=settings.gateway_secret.get_secret_value().encode()
    )
    profiles = ProfileClient(profile_http)
    scorers = ScorerCache()
    celery = make_celery(
        "matching-api",
        settings.broker_url,
        visibility_timeout_s=settings.broker_visibility_timeout_s,
    )
    relay = relay_for(graph, celery)
    transactions = GraphTransactions(graph, after_commit=relay.committed)

    async def stop() -> None:
        await relay.stop()
        await profile_http.close()

    read_audits = ReadAudits(graph)
    gauges = Gauges()
    gauges.add(
        "mdm.review_queue.size",
        review_queue_size(graph),
        description="Unresolved review tasks, by status.",
    )

    async def context(
        request: Request, response: Response | None, principal: Principal | None
    ) -> MatchingContext:
        return MatchingContext(
            request=request,
            response=response,
            principal=principal,
            graph=graph,
            profiles=profiles,
            policy=settings.policy,
            scorers=scorers,
            transactions=transactions,
            read_audits=read_audits,
        )

    return create_subgraph_app(
        settings=settings,
        schema=build_schema(schema_extensions(settings, read_audits=read_audits)),
        graph=graph,
        schema_statements=SCHEMA,
        context_factory=context,
        on_startup=relay.start,
        on_shutdown=stop,
        read_audits=read_audits,
        gauges=gauges,
    )
