// OpenTelemetry for the gateway: a span per request and per subgraph call, with the
// W3C traceparent propagated to the subgraphs. Enabled when OTEL_EXPORTER_OTLP_ENDPOINT
// is set; the exporter reads the standard OTEL_* variables itself.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openTelemetrySetup } from '@graphql-hive/plugin-opentelemetry/setup';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';

// Attributes that can carry personal data: the raw document (its literals) and full
// URLs (GET requests put variables in the query string).
const DOCUMENT_ATTRIBUTES = ['graphql.document'];
const URL_ATTRIBUTES = ['http.url', 'url.full', 'http.target'];

class ScrubbingProcessor {
  constructor(next) {
    this.next = next;
  }
  onStart(span, context) {
    this.next.onStart(span, context);
  }
  onEnd(span) {
    const attributes = span.attributes;
    for (const key of DOCUMENT_ATTRIBUTES) delete attributes[key];
    for (const key of URL_ATTRIBUTES) {
      if (typeof attributes[key] === 'string') attributes[key] = attributes[key].split('?')[0];
    }
    this.next.onEnd(span);
  }
  forceFlush() {
    return this.next.forceFlush();
  }
  shutdown() {
    return this.next.shutdown();
  }
}

export function tracingPlugins() {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return [];
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: process.env.OTEL_SERVICE_NAME || 'gateway' },
    traces: { processors: [new ScrubbingProcessor(new BatchSpanProcessor(new OTLPTraceExporter()))] },
  });
  return [useOpenTelemetry({ traces: true })];
}
