"""Playwright against Debian's Chromium (STACK.md: `playwright install` cannot download here).

Tests use ``live_server`` and ``django_db(transaction=True)``. Screenshots go to
``test-artifacts/screenshots/`` (ignored by git) for people to look at.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.services import require_chromium

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the test thread, so Django would refuse the
    test's own queries. Allowed for this package only: set for the whole run, the variable
    leaks into `manage.py check --deploy` subprocesses of other tests, which then fail."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system Chromium; skipped (or, in CI, failed) when it is not installed."""
    return {
        **browser_type_launch_args,
        "executable_path": require_chromium(),
        "args": CHROMIUM_ARGS,
    }


def screenshot(page, name: str, *, accessible: bool = True) -> Path:
    """Save a full-page PNG of what ``page`` shows as ``test-artifacts/screenshots/<name>.png``,
    after checking the screen with axe-core (every screen worth a picture is worth a check)."""
    if accessible:
        assert_accessible(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# pytest-playwright keeps Playwright (and its event loop in the main thread) for the whole
# session, so every later test that touches the database would be refused as "async". These
# overrides start it for this package and stop it when the package is done.
@pytest.fixture(scope="package")
def playwright():
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name: str):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args: dict, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    chromium = launch_browser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="package")
def browser_context_args(base_url: str | None) -> dict:
    # pytest-playwright's own reads device presets from the session-wide Playwright; no
    # test here emulates a device (the phone screenshots set the viewport).
    return {"base_url": base_url} if base_url else {}


AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
BLOCKING_IMPACTS = {"serious", "critical"}


def assert_accessible(page, name: str) -> None:
    """Run axe-core (committed under vendor/, MPL-2.0) in the page: no serious or critical
    violation may remain (PRODUCT §10). Evaluated through the driver, so the page's content
    security policy needs no exception."""
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    blocking = [v for v in result if v["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], f"{name}: accessibility violations {blocking}"
