"""Browser tests: Playwright drives Debian's chromium against the console of the
test platform (started by mdm_infra.testing like every other server).

Screenshots: every test may call ``shoot(page, name)``; with
``MDM_SCREENSHOTS=<dir>`` set they are written there (docs/console/ is made so),
otherwise into pytest's temporary directory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium (Playwright cannot download its own browser here), with
    the network chatter of a fresh profile switched off."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM}: make browser")
    return browser_type_launch_args | {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return browser_context_args | {"viewport": {"width": 1360, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def console_url(platform: Platform, token_for: Callable[..., str]) -> str:
    client = GatewayClient(platform.config.gateway_url, token_for("compliance"))
    try:
        demo.ensure_newsletter(client)
    finally:
        client.close()
    return platform.config.console_url


@pytest.fixture
def sign_in(page: Page, console_url: str) -> Callable[..., Page]:
    """Sign in through the development sign-in page with these roles."""

    def as_user(*roles: str, name: str | None = None) -> Page:
        page.goto(console_url + "/signin")
        page.get_by_label("Name").fill(name or f"tester-{uuid.uuid4().hex[:6]}")
        for box in page.locator("input[name=roles]").all():
            box.set_checked(box.get_attribute("value") in roles)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return as_user


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("MDM_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def shoot(screenshot_dir: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def app_gateway(platform: Platform, token_for: Callable[..., str]) -> Iterator[GatewayClient]:
    """All roles, for preparing a test's data through the gateway."""
    client = GatewayClient(platform.config.gateway_url, token_for("app", "steward", "compliance"))
    yield client
    client.close()
