"""Sign-in per role, refusals, sign-out, CSRF, the language switch."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect


def test_the_sign_in_page_says_it_is_the_development_sign_in(
    page: Page, console_url: str, shoot
) -> None:
    page.goto(console_url + "/review")  # a deep link: sign in first, then there
    expect(page).to_have_url(re.compile(r".*/signin\?next=%2Freview$"))
    expect(page.get_by_role("heading", name="Development sign-in")).to_be_visible()
    expect(page.get_by_text("Do not enter real customer data")).to_be_visible()
    shoot(page, "signin")


def test_a_steward_lands_in_the_review_queue(sign_in: Callable[..., Page], shoot) -> None:
    page = sign_in("steward", name="Stefanie")
    expect(page).to_have_url(re.compile(r".*/review$"))
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.get_by_text("Development sign-in")).to_be_visible()  # said on every page
    expect(page.get_by_role("link", name="Data-subject requests")).to_have_count(0)


def test_a_compliance_officer_lands_on_the_contact_check(sign_in: Callable[..., Page]) -> None:
    page = sign_in("compliance")
    expect(page).to_have_url(re.compile(r".*/compliance$"))
    expect(page.get_by_role("link", name="Review queue")).to_have_count(0)
    # A steward's page by deep link: refused with a readable page.
    response = page.goto(page.url.replace("/compliance", "/review"))
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Your roles do not allow this")).to_be_visible()


def test_an_app_role_user_is_refused(sign_in: Callable[..., Page], shoot) -> None:
    page = sign_in("app")
    expect(page.get_by_role("heading", name="Your roles do not allow this")).to_be_visible()
    expect(page.get_by_text("This page is not open to your roles (app)")).to_be_visible()
    shoot(page, "refused")


def test_sign_out_ends_the_session(sign_in: Callable[..., Page], console_url: str) -> None:
    page = sign_in("steward")
    cookie = next(c for c in page.context.cookies() if c["name"] == "mdm_console_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    # The old session id is worth nothing now.
    response = httpx.get(
        console_url + "/review", cookies={cookie["name"]: cookie["value"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_a_form_without_its_csrf_token_is_refused(
    sign_in: Callable[..., Page], console_url: str
) -> None:
    page = sign_in("steward")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = httpx.post(
        console_url + "/jobs/rematch",
        data={"partitions": "2"},
        cookies=cookies,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "security token" in response.text
    forged = httpx.post(
        console_url + "/jobs/rematch",
        data={"partitions": "2", "csrf_token": "forged"},
        cookies=cookies,
    )
    assert forged.status_code == 403


def test_pages_send_a_strict_content_security_policy(console_url: str) -> None:
    response = httpx.get(console_url + "/signin")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_console_speaks_german(sign_in: Callable[..., Page]) -> None:
    page = sign_in("steward")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Prüfliste")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
