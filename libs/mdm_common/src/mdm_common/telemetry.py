"""OpenTelemetry set-up shared by services and workers.

Spans are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the
standard variable, read by the exporter itself); otherwise tracing stays in-process
and costs almost nothing. No span attribute may hold personal data: GraphQL
documents and arguments, Cypher parameters and task arguments are never recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from strawberry.extensions import SchemaExtension

_configured: TracerProvider | None = None


def setup_tracing(service_name: str) -> TracerProvider:
    """Install the global tracer provider once per process and return it."""
    global _configured  # noqa: PLW0603 - the provider is process-global by OpenTelemetry's design
    if _configured is not None:
        return _configured
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def shutdown_tracing() -> None:
    """Flush pending spans; call when the process stops."""
    if _configured is not None:
        _configured.shutdown()


class GraphQLTracing(SchemaExtension):
    """One span per GraphQL operation, named after the operation.

    Written here instead of strawberry's ``OpenTelemetryExtension`` because that one
    records the raw document (whose literals may be names or e-mail addresses) and
    opens a span per resolver, which costs more than the resolvers themselves.
    """

    _tracer = trace.get_tracer("mdm_common.graphql")

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        with self._tracer.start_as_current_span("graphql.operation") as span:
            yield
            name = ctx.operation_name or "anonymous"
            span.update_name(f"graphql {name}")
            span.set_attribute("graphql.operation.name", name)
            # No document when parsing failed (syntax error, token limit).
            if ctx.graphql_document is not None:
                span.set_attribute("graphql.operation.type", ctx.operation_type.value)
            errors = ctx.result.errors if ctx.result is not None else None
            if errors:
                span.set_attribute("graphql.error.count", len(errors))
