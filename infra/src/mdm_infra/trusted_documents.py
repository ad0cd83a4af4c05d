"""The console's operations as a persisted (trusted) documents manifest.

``gateway/persisted-documents.json`` maps the SHA-256 (hex) of each operation text the
console sends to that text; ``make schema`` writes it. A gateway started with
``MDM_PERSISTED_DOCUMENTS`` pointing at it runs these documents and nothing else
(gateway/src/policy.mjs). Other clients' documents are added to a manifest of the
operator's own.
"""

from __future__ import annotations

import hashlib
import json

from mdm_console.client.gateway import Operations
from mdm_infra.platform import GATEWAY_DIR

MANIFEST_PATH = GATEWAY_DIR / "persisted-documents.json"


def document_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest() -> dict[str, str]:
    texts = Operations().texts
    return {document_id(texts[name]): texts[name] for name in sorted(texts)}


def current_text() -> str:
    return json.dumps(manifest(), indent=2) + "\n"


def write() -> None:
    MANIFEST_PATH.write_text(current_text())


def is_stale() -> bool:
    return not MANIFEST_PATH.exists() or MANIFEST_PATH.read_text() != current_text()
