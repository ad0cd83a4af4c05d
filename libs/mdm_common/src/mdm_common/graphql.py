"""GraphQL edge shared by the subgraphs: context, roles, error mapping, limits, the app.

Domain errors become errors with a stable ``extensions.code``; anything unexpected
is logged (type only, no personal data) and masked as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionResult

from mdm_common.auth import PRINCIPAL_SCOPE_KEY, GatewayOnly, Principal, Role
from mdm_common.entities import check_representations
from mdm_common.error_codes import (
    about_the_request,
    coded,
    ensure_code,
    http_error,
    json_object,
    limit_rules,
    request_error_code,
)
from mdm_common.errors import DomainError, Forbidden, Unauthenticated
from mdm_common.graph import GraphClient
from mdm_common.metrics import Gauges, GraphQLMetrics, metrics_endpoint, setup_metrics
from mdm_common.metrics_sources import common_gauges
from mdm_common.read_audit.records import ReadTrail
from mdm_common.read_audit.service import ReadAudits
from mdm_common.readiness import Dependency, NotReady, broker_probe, readiness_endpoint
from mdm_common.replay import NonceRegistry, shared_store_url
from mdm_common.request_policy import JsonOnly, SchemaExposure
from mdm_common.settings import ServiceSettings
from mdm_common.telemetry import GraphQLTracing, setup_tracing, shutdown_tracing

log = logging.getLogger(__name__)


@dataclass
class RequestContext:
    """Per-request context; services subclass it to add their use cases and loaders."""

    request: Request
    response: Response | None
    principal: Principal | None
    # The persons whose data this request returns, for its read-audit record.
    read_trail: ReadTrail = field(default_factory=ReadTrail, init=False)

    def read_persons(self, person_ids: Iterable[str]) -> None:
        """Name the persons whose data a resolver returns (audited, docs/observability.md)."""
        self.read_trail.saw(person_ids)

    def require(self, *roles: Role) -> Principal:
        """Return the caller if it holds one of ``roles`` (admin holds all)."""
        if self.principal is None:
            raise Unauthenticated("A valid token is required.")
        if not self.principal.has_any(frozenset(roles)):
            wanted = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"This operation needs one of the roles: {wanted}.")
        return self.principal


class ErrorMapping(MaskErrors):
    """Typed codes for expected errors; masked, logged internals for the rest."""

    def __init__(self) -> None:
        super().__init__(error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._map(error) for error in errors]

    def _map(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            error.extensions = {**(error.extensions or {}), "code": original.code.value}
            if original.field:
                error.extensions["field"] = original.field
            error.extensions.update(original.details)
            return error
        if about_the_request(error):
            # Parse, limit, validation and variable errors describe the request, not
            # the server (a variable's value a scalar cannot parse carries the
            # scalar's exception as its original error).
            max_tokens = self.execution_context.parse_options.get("max_tokens")
            return coded(error, request_error_code(error, max_tokens=max_tokens))
        log.error(
            "unexpected %s in %s",
            type(original).__name__,
            ".".join(str(p) for p in error.path or ()),
            exc_info=original,
        )
        masked = self.anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


class SubgraphSchema(strawberry.federation.Schema):
    """A federation 2.9 subgraph schema (the version the composer accepts).

    Strawberry logs every error with its query text by default; here expected errors
    are the caller's business and unexpected ones are logged by :class:`ErrorMapping`
    without the document, whose literals may hold personal data.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", "2.9")
        super().__init__(**kwargs)

    # Strawberry builds ``_entities`` from this method's annotations.
    def entities_resolver(
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        check_representations(representations, self.schema_converter.type_map)
        return super().entities_resolver(info, representations)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return


# Strawberry builds extensions per request from a class or a factory; an instance
# would be shared by concurrent requests.
Extension = type[SchemaExtension] | Callable[[], SchemaExtension]
_CACHED_DOCUMENTS = 256


def schema_extensions(
    settings: ServiceSettings, *, read_audits: ReadAudits | None = None
) -> list[Extension]:
    """The same limits and edge behaviour in every subgraph.

    Parsing and validating a document costs more than resolving a person, and the
    gateway sends the same few documents again and again: both are cached (bounded
    LRU, keyed by the text, the token limit and the rules). The limit rules are built
    once so that the cache key stays the same from one request to the next.
    """
    limits = limit_rules(
        [
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
        ]
    )
    extensions: list[Extension] = [
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: _ParserCache(maxsize=_CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=_CACHED_DOCUMENTS),
        SchemaExposure,
        GraphQLMetrics,
        GraphQLTracing,
        ErrorMapping,
    ]
    if read_audits is not None:
        # Last: its result (UNAVAILABLE when the audit cannot be written) is then
        # mapped and counted like any other.
        extensions.append(read_audits.extension)
    return extensions


class _ParserCache(ParserCache):
    """Strawberry's parser cache, except that a document that does not parse is
    parsed once more by strawberry itself: raised from this hook, its error would
    bypass the other extensions (and :class:`ErrorMapping` with them)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


ContextFactory = Callable[[Request, Response | None, Principal | None], Awaitable[Any]]


class _GraphQLApp(GraphQL[Any, None]):
    def __init__(
        self, schema: strawberry.Schema, context_factory: ContextFactory, *, max_tokens: int
    ) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=False)
        self._context_factory = context_factory
        self._max_tokens = max_tokens

    async def get_context(self, request: Any, response: Any) -> Any:
        principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
        return await self._context_factory(request, response, principal)

    # Every refusal is a GraphQL response with a code, also those strawberry makes
    # before any document is read (it answers them in plain text).
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = http_error(exc.status_code, exc.reason)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json_object(data)
        except ValueError as exc:
            raise HTTPException(400, "The request body is not a JSON object.") from exc

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        for error in result.errors or ():
            ensure_code(error, max_tokens=self._max_tokens)
        return await super().process_result(request, result)


def create_app(
    *,
    settings: ServiceSettings,
    schema: strawberry.Schema,
    graph: GraphClient,
    schema_statements: Iterable[str],
    context_factory: ContextFactory,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    read_audits: ReadAudits | None = None,
    gauges: Gauges | None = None,
) -> Starlette:
    """A subgraph: ``/graphql`` (gateway only), ``/healthz`` (alive), ``/readyz`` (graph
    and broker answer; :mod:`mdm_common.readiness`), ``/metrics`` (Prometheus, loopback
    and operations' networks only)."""
    statements = list(schema_statements)
    if read_audits is not None:
        statements.extend(read_audits.SCHEMA)
    gauges = common_gauges(settings, graph, gauges or Gauges(), read_audits)
    state = {"schema_applied": False}
    nonces = NonceRegistry(
        shared_store_url(settings.nonce_store_url, settings.broker_url),
        ttl_s=settings.gateway_signature_max_age_s + settings.gateway_signature_skew_s,
    )

    async def apply_schema_until_done() -> None:
        delay = 0.5
        while True:
            try:
                await graph.apply_schema(statements)
            except Exception as exc:
                log.warning("graph schema not applied yet (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                state["schema_applied"] = True
                log.info("graph schema applied to database %s", graph.database)
                return

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        setup_tracing(settings.service_name)
        schema_task = asyncio.create_task(apply_schema_until_done())
        if read_audits is not None:
            read_audits.start()
        if on_startup is not None:
            await on_startup()
        try:
            yield
        finally:
            schema_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await schema_task
            if on_shutdown is not None:
                await on_shutdown()
            await nonces.close()
            if read_audits is not None:
                await read_audits.stop()
            await graph.close()
            shutdown_tracing()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive", "service": settings.service_name})

    async def graph_answers() -> None:
        if not state["schema_applied"]:
            raise NotReady("starting", "schema not applied yet")
        await graph.ping()

    readyz = readiness_endpoint(
        settings.service_name,
        [
            Dependency("graph", graph_answers, timeout_s=settings.graph_connect_timeout_s),
            Dependency(
                "broker",
                broker_probe(settings.broker_url, timeout_s=settings.graph_connect_timeout_s),
                timeout_s=settings.graph_connect_timeout_s,
            ),
        ],
    )

    graphql_app = GatewayOnly(
        _GraphQLApp(schema, context_factory, max_tokens=settings.max_query_tokens),
        secret=settings.gateway_secret.get_secret_value().encode(),
        nonces=nonces,
        max_bytes=settings.max_request_bytes,
        max_age_s=settings.gateway_signature_max_age_s,
        skew_s=settings.gateway_signature_skew_s,
    )
    app = Starlette(
        routes=[
            Route("/graphql", JsonOnly(graphql_app), methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(
                "/metrics",
                metrics_endpoint(
                    setup_metrics(settings.service_name),
                    gauges,
                    allowed=settings.metrics_allowed_networks,
                ),
            ),
        ],
        lifespan=lifespan,
        exception_handlers={StarletteHTTPException: _coded_http_error},
    )
    # Server span per request, continuing the gateway's W3C traceparent.
    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls="healthz,readyz,metrics",
        exclude_spans=["receive", "send"],
    )
    return app


async def _coded_http_error(_: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, a GET on /graphql) with a code too."""
    assert isinstance(exc, StarletteHTTPException)
    return http_error(exc.status_code, exc.detail)
