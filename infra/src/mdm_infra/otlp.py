"""A minimal OTLP/HTTP trace receiver for tests: it records what the platform exports.

Accepts protobuf (Python exporters) and JSON (the gateway's exporter) on /v1/traces.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    attributes: dict[str, Any]


def _any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _json_value(value: dict[str, Any]) -> Any:
    return next(iter(value.values()), None) if value else None


def parse_protobuf(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _any_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                attributes = {a.key: _any_value(a.value) for a in span.attributes}
                spans.append(ReceivedSpan(
                    str(resource.get("service.name")), span.name, span.trace_id.hex(), attributes
                ))  # fmt: skip
    return spans


def parse_json(body: bytes) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in json.loads(body).get("resourceSpans", []):
        resource = {
            a["key"]: _json_value(a.get("value", {}))
            for a in resource_spans.get("resource", {}).get("attributes", [])
        }
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                attributes = {
                    a["key"]: _json_value(a.get("value", {})) for a in span.get("attributes", [])
                }
                spans.append(ReceivedSpan(
                    str(resource.get("service.name")), span["name"], span["traceId"].lower(),
                    attributes,
                ))  # fmt: skip
    return spans


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self._read_body()
                is_json = "json" in self.headers.get("content-type", "")
                parsed = parse_json(body) if is_json else parse_protobuf(body)
                with receiver._lock:
                    receiver.spans.extend(parsed)
                reply = b"{}" if is_json else b""
                # An exporter killed mid-request (the fault tests kill servers) is gone.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(200)
                    self.send_header("content-type", self.headers.get("content-type", ""))
                    self.send_header("content-length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)

            def _read_body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("content-length", "0")))
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()  # the empty line after the last chunk
                        return bytes(body)
                    body.extend(self.rfile.read(size))
                    self.rfile.readline()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)
