"""Wires the consent service. Run with uvicorn --factory."""

from __future__ import annotations

from datetime import timedelta

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
from mdm_consent.adapters.privacy_client import PrivacyClient
from mdm_consent.adapters.profile_client import ProfileDirectory
from mdm_consent.adapters.rectification_client import RectificationClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain.purposes import PurposeCache
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.schema import build_schema
from mdm_consent.settings import ConsentSettings


def create_app() -> Starlette:
    settings = ConsentSettings()
    graph = graph_client_from(settings)
    secret = settings.gateway_secret.get_secret_value().encode()
    profile_http = SubgraphClient(settings.profile_url, secret=secret)
    matching_http = SubgraphClient(settings.matching_url, secret=secret)
    distribution_http = SubgraphClient(settings.distribution_url, secret=secret)
    directory = ProfileDirectory(profile_http)
    privacy = PrivacyClient(
        profile=profile_http, matching=matching_http, distribution=distribution_http
    )
    rectification = RectificationClient(profile_http)
    celery = make_celery(
        "consent-api",
        settings.broker_url,
        visibility_timeout_s=settings.broker_visibility_timeout_s,
    )
    relay = relay_for(graph, celery)
    transactions = GraphTransactions(graph, after_commit=relay.committed)
    purposes = PurposeCache()
    event_skew = timedelta(seconds=settings.event_clock_skew_s)
    double_opt_in_window = timedelta(days=settings.double_opt_in_days)

    async def close() -> None:
        await relay.stop()
        await profile_http.close()
        await matching_http.close()
        await distribution_http.close()

    async def context(
        request: Request, response: Response | None, principal: Principal | None
    ) -> ConsentContext:
        return ConsentContext(
            request=request,
            response=response,
            principal=principal,
            graph=graph,
            directory=directory,
            privacy=privacy,
            transactions=transactions,
            purposes=purposes,
            event_skew=event_skew,
            rectification=rectification,
            double_opt_in_window=double_opt_in_window,
        )

    return create_subgraph_app(
        settings=settings,
        schema=build_schema(schema_extensions(settings)),
        graph=graph,
        schema_statements=SCHEMA,
        context_factory=context,
        on_startup=relay.start,
        on_shutdown=close,
    )
