"""OpenTelemetry metrics of a service, scraped as Prometheus text at ``/metrics``.

Instruments are OpenTelemetry's (``opentelemetry.metrics``); the SDK's
``PrometheusMetricReader`` turns them into Prometheus families when ``/metrics``
is scraped. Labels never hold personal data and stay few: GraphQL operation names
(at most :data:`MAX_OPERATION_NAMES` distinct ones per process, the rest counted as
``other``), error codes, queue names, fixed states. docs/observability.md lists them.

Gauges whose value needs I/O (the outbox backlog, the broker queue's length, the
review queue) are :class:`Gauges` sources: ``/metrics`` refreshes them (each bounded
by a timeout, at most once per ``min_interval_s``) before it renders, and the
OpenTelemetry callbacks only read the refreshed values. A source that fails is left
out of that scrape (absent, not zero) and logged by type.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.extensions import SchemaExtension

log = logging.getLogger(__name__)

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Z][A-Z_]{0,49}")
# Seconds; a person read takes 5-30 ms through the gateway, a batch ingest seconds.
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

_registry: CollectorRegistry | None = None
_meter = metrics.get_meter("mdm_common")


def setup_metrics(service_name: str) -> CollectorRegistry:
    """Install the global meter provider once per process; return the registry that
    ``/metrics`` renders."""
    global _registry  # noqa: PLW0603 - the provider is process-global by OpenTelemetry's design
    if _registry is not None:
        return _registry
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    provider = MeterProvider(
        resource=Resource.create({"service.name": service_name}),
        metric_readers=[PrometheusMetricReader(registry=registry)],
        views=[
            View(
                instrument_name="mdm.graphql.request.duration",
                aggregation=ExplicitBucketHistogramAggregation(_LATENCY_BUCKETS),
            )
        ],
    )
    metrics.set_meter_provider(provider)
    _registry = registry
    return registry


_requests = _meter.create_counter(
    "mdm.graphql.requests", description="GraphQL operations served, by operation name and type."
)
_duration = _meter.create_histogram(
    "mdm.graphql.request.duration", unit="s", description="GraphQL operation duration."
)
_errors = _meter.create_counter(
    "mdm.graphql.errors", description="Errors in GraphQL results, by extensions.code."
)
merges = _meter.create_counter("mdm.merges", description="Merges (kind=merge) and unmerges.")
contact_checks = _meter.create_counter(
    "mdm.contact.checks", description="Contact checks answered, by outcome (allowed or not)."
)


@dataclass
class _OperationNames:
    """Operation names become labels until there are ``limit`` of them; then ``other``."""

    limit: int
    seen: set[str] = field(default_factory=set)

    def label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if name in self.seen:
            return name
        if not _NAME.fullmatch(name) or len(self.seen) >= self.limit:
            return "other"
        self.seen.add(name)
        return name


_operation_names = _OperationNames(MAX_OPERATION_NAMES)


class GraphQLMetrics(SchemaExtension):
    """Counts operations, times them and counts their errors by code."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        operation = _operation_names.label(ctx.operation_name)
        kind = ctx.operation_type.value if ctx.graphql_document is not None else "invalid"
        labels = {"operation": operation, "type": kind}
        _requests.add(1, labels)
        _duration.record(time.perf_counter() - started, labels)
        errors = ctx.result.errors if ctx.result is not None else None
        for error in errors or ():
            code = (error.extensions or {}).get("code")
            label = code if isinstance(code, str) and _CODE.fullmatch(code) else "OTHER"
            _errors.add(1, {"operation": operation, "code": label})


Values = Mapping[tuple[tuple[str, str], ...], float]
Source = Callable[[], Awaitable[Values]]


class Gauges:
    """Gauges whose values are read (asynchronously) when ``/metrics`` is scraped."""

    def __init__(self, *, timeout_s: float = 2.0, min_interval_s: float = 5.0) -> None:
        self._sources: dict[str, Source] = {}
        self._values: dict[str, Values] = {}
        self._timeout_s = timeout_s
        self._min_interval_s = min_interval_s
        self._refreshed_at = float("-inf")
        self._lock = asyncio.Lock()

    def add(self, name: str, source: Source, *, description: str) -> None:
        """Register ``source``: it returns the value per label set (a tuple of pairs)."""
        self._sources[name] = source

        def observe(_: CallbackOptions) -> Iterable[Observation]:
            for labels, value in self._values.get(name, {}).items():
                yield Observation(value, dict(labels))

        _meter.create_observable_gauge(name, callbacks=[observe], description=description)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._refreshed_at < self._min_interval_s:
                return
            names = list(self._sources)
            results = await asyncio.gather(
                *(asyncio.wait_for(self._sources[n](), self._timeout_s) for n in names),
                return_exceptions=True,
            )
            for name, result in zip(names, results, strict=True):
                if isinstance(result, BaseException):
                    log.warning("gauge %s not read (%s)", name, type(result).__name__)
                    self._values.pop(name, None)
                else:
                    self._values[name] = result
            self._refreshed_at = time.monotonic()


def single(value: float) -> Values:
    """A gauge value without labels."""
    return {(): value}


Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def metrics_endpoint(
    registry: CollectorRegistry, gauges: Gauges, *, allowed: Networks
) -> Callable[[Request], Awaitable[Response]]:
    """``GET /metrics``: the Prometheus text, for clients from ``allowed`` networks only
    (loopback by default; operations adds its scraper's). No gateway signature: it is
    not GraphQL, and the gateway never routes to it."""

    async def endpoint(request: Request) -> Response:
        if not _allowed(request, allowed):
            return PlainTextResponse("Not found.", status_code=404)
        await gauges.refresh()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _allowed(request: Request, allowed: Networks) -> bool:
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in allowed)
