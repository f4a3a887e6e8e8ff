"""The API's pages in a browser: the profile's tokens (create, shown once, revoke) and the
documentation page, which must render within the content security policy (no CDN, no inline
script)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_researcher_creates_and_revokes_a_token(page: Page, live_server):
    make_user("paula@uni.example", full_name="Paula Investigator")
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("paula@uni.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.locator("#id_name").fill("nightly report")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Your new API token")).to_be_visible()
    token = page.get_by_label("Token").input_value()
    assert re.fullmatch(r"allot_[0-9a-f]{12}_[\w-]{43}", token)
    screenshot(page, "api-01-token-created")
    page.get_by_role("link", name="Back to your profile").click()
    row = page.get_by_role("row").filter(has_text="nightly report")
    expect(row).to_contain_text("active")
    screenshot(page, "api-02-profile-tokens")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row").filter(has_text="nightly report")).to_contain_text("revoked")
    assert token not in page.content()


def test_the_documentation_page_renders_within_the_policy(page: Page, live_server):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("Allot API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/proposals").first).to_be_visible()
    screenshot(page, "api-03-docs", accessible=False)
    assert refused == []
    assert [url for url in outside if not url.startswith("data:")] == []
