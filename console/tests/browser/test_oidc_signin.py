"""Production sign-in: OpenID Connect against an identity provider, groups mapped to
roles, no development sign-in anywhere.

The identity provider is oidc-provider-mock from PyPI: an OpenID provider server for
tests (authlib's server: discovery, authorisation code with PKCE, RS256 ID tokens,
JWKS) on its own port; a second console runs with OIDC settings only.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from mdm_infra.platform import Platform, asgi_server
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess

ROLE_MAPPING = {"mdm-stewards": "steward", "dpo": "compliance"}


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    logs = tmp_path_factory.mktemp("idp")
    process = ManagedProcess(
        name="idp",
        argv=[sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
        env={},
        cwd=None,
        log_path=Path(logs) / "idp.log",
    )
    process.start()
    issuer = f"http://127.0.0.1:{port}"
    try:
        process.wait_ready(
            lambda: _answers(issuer + "/.well-known/openid-configuration"), timeout_s=30
        )
        yield issuer
    finally:
        process.stop()


@pytest.fixture(scope="module")
def oidc_console(
    platform: Platform, identity_provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "CONSOLE_GATEWAY_URL": platform.config.gateway_url,
        "CONSOLE_JWT_SECRET": platform.config.secrets.jwt,
        "CONSOLE_PUBLIC_URL": url,
        "CONSOLE_OIDC_ISSUER": identity_provider,
        "CONSOLE_OIDC_CLIENT_ID": "mdm-console",
        "CONSOLE_OIDC_CLIENT_SECRET": "console-secret",
        "CONSOLE_OIDC_ROLE_MAPPING": json.dumps(ROLE_MAPPING),
    }
    process = ManagedProcess(
        name="console-oidc",
        argv=asgi_server(sys.executable, "mdm_console.app:create_app", port),
        env=env,
        cwd=None,
        log_path=Path(tmp_path_factory.mktemp("console-oidc")) / "console.log",
    )
    process.start()
    try:
        process.wait_ready(lambda: _answers(url + "/healthz"), timeout_s=30)
        yield url
    finally:
        process.stop()


def _user_at_idp(issuer: str, subject: str, **claims: object) -> None:
    httpx.put(f"{issuer}/users/{subject}", json=claims, timeout=5).raise_for_status()


def _sign_in_at_idp(page: Page, console: str, subject: str) -> None:
    page.goto(console + "/review")
    expect(page.get_by_role("heading", name="Development sign-in")).to_have_count(0)
    expect(page.get_by_text("Development sign-in")).to_have_count(0)  # no banner either
    page.get_by_role("link", name="Sign in with your company account").click()
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state()


def test_a_steward_signs_in_at_the_identity_provider(
    page: Page, oidc_console: str, identity_provider: str
) -> None:
    _user_at_idp(identity_provider, "u-1001", name="Olga Ortmann", groups=["mdm-stewards"])
    _sign_in_at_idp(page, oidc_console, "u-1001")
    expect(page).to_have_url(re.compile(r".*/review$"))  # back where the deep link pointed
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.locator(".who .user")).to_contain_text("Olga Ortmann")
    expect(page.locator(".who .user")).to_have_attribute("title", "u-1001")
    # The development sign-in does not exist on a console with an identity provider.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    refused = httpx.post(oidc_console + "/signin/dev", data={"roles": "admin"}, cookies=cookies)
    assert refused.status_code == 403


def test_a_user_without_a_mapped_group_is_refused(
    page: Page, oidc_console: str, identity_provider: str
) -> None:
    _user_at_idp(identity_provider, "u-2002", name="Max Muster", groups=["marketing"])
    _sign_in_at_idp(page, oidc_console, "u-2002")
    expect(page.get_by_role("heading", name="Your roles do not allow this")).to_be_visible()
