"""Wires the profile service: settings, graph, broker, GraphQL. Run with uvicorn --factory."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from mdm_common.auth import Principal
from mdm_common.events import make_celery
from mdm_common.graph import graph_client_from
from mdm_common.graphql import create_app as create_subgraph_app
from mdm_common.graphql import schema_extensions
from mdm_common.read_audit.service import ReadAudits
from mdm_common.unit_of_work import SCHEMA as MESSAGING_SCHEMA
from mdm_common.unit_of_work import UnitOfWork, relay_for
from mdm_profile.adapters import (
    company_merge_store,
    company_record_store,
    company_store,
    employment_store,
    graph_store,
    hold_store,
    household_store,
    merge_store,
    privacy_store,
)
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import Suppressor
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.schema import build_schema
from mdm_profile.settings import ProfileSettings


def create_app() -> Starlette:
    settings = ProfileSettings()
    graph = graph_client_from(settings)
    celery = make_celery(
        "profile", settings.broker_url, visibility_timeout_s=settings.broker_visibility_timeout_s
    )
    relay = relay_for(graph, celery)
    unit_of_work = UnitOfWork(graph, after_commit=relay.committed)
    sources = SourceRegistry(settings.sources)
    suppressor = Suppressor(settings.suppression_key_bytes)
    read_audits = ReadAudits(graph)
    ingest_turn = asyncio.Lock()

    async def context(
        request: Request, response: Response | None, principal: Principal | None
    ) -> ProfileContext:
        return ProfileContext(
            request=request,
            response=response,
            principal=principal,
            graph=graph,
            unit_of_work=unit_of_work,
            sources=sources,
            rules=settings.survivorship_rules,
            suppressor=suppressor,
            household_by_family_name=settings.household_by_family_name,
            read_audits=read_audits,
            ingest_turn=ingest_turn,
        )

    return create_subgraph_app(
        settings=settings,
        schema=build_schema(schema_extensions(settings, read_audits=read_audits)),
        graph=graph,
        schema_statements=(
            *MESSAGING_SCHEMA,
            *graph_store.SCHEMA,
            *merge_store.SCHEMA,
            *household_store.SCHEMA,
            *company_store.SCHEMA,
            *company_record_store.SCHEMA,
            *company_merge_store.SCHEMA,
            *employment_store.SCHEMA,
            *privacy_store.SCHEMA,
            *hold_store.SCHEMA,
        ),
        context_factory=context,
        on_startup=relay.start,
        on_shutdown=relay.stop,
        read_audits=read_audits,
    )
