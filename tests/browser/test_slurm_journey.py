"""Cluster logins and continuations in the browser (PRODUCT §8): a call manager signs in with
the authenticator's code and gives a member a login on the allocation's logins page (a taken
name is refused beside the field); the PI continues the allocation from the call's page and
finds the earlier allocation's use on the new draft. Screens saved as screenshots (90-onwards),
each checked by axe-core."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from allocations.enums import LedgerKind
from allocations.services.logins import cluster_login_set
from proposals.submission.models import Proposal
from tests.accounts.conftest import totp_code
from tests.allocation_factories import add_entry, add_usage, make_allocation
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_manager, make_user
from tests.factories import make_resource
from tests.proposal_factories import make_call_closing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def _empty_ledger_afterwards():
    """The ledger is append-only: lift its triggers just long enough to empty it after the
    test (as tests/browser/test_award_journey.py does)."""
    yield
    triggers = importlib.import_module("allocations.migrations.0003_ledger_append_only")
    with connection.schema_editor() as editor:
        triggers.backward(None, editor)
        editor.execute("DELETE FROM allocations_ledgerentry")
        triggers.forward(None, editor)


def _sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _click(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


@pytest.mark.usefixtures("_empty_ledger_afterwards")
def test_logins_and_a_continuation(browser: Browser, live_server):
    paula = make_user("paula.pi@uni.example", full_name="Paula Investigator")
    carl = make_user("carl@uni.example", full_name="Carl Coinvestigator")
    booster = make_resource()
    allocation = make_allocation(
        pi=paula, acronym="sparse", awarded={booster: 12_000}, members=[carl]
    )
    Proposal.objects.filter(pk=allocation.proposal_id).update(title="Sparse experts at scale")
    add_usage(allocation, booster, 9_000, on=date(2027, 9, 1))
    add_entry(
        allocation, booster, kind=LedgerKind.FORFEIT, amount=Decimal(-500), on=date(2027, 10, 31)
    )
    call = make_call_closing()
    manager = make_manager(with_mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    manager.second_factor_passed = True
    cluster_login_set(user=paula, cluster="jupiter", login="paula1", by=manager)

    # -- The manager gives Carl a login; a name Paula has is refused beside the field.
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.set_default_timeout(10_000)
    logins = reverse("allocation_cluster_logins", args=[allocation.pk])
    page.goto(f"{live_server.url}/accounts/login/?next={logins}")
    _sign_in(page, manager.email)
    page.get_by_label("Code").fill(totp_code(secret))
    _click(page, "Sign In")
    expect(
        page.get_by_role("heading", name=f"Cluster logins of {allocation.account}")
    ).to_be_visible()
    screenshot(page, "90-cluster-logins")
    page.get_by_role("combobox", name="Member").select_option(
        label="Carl Coinvestigator <carl@uni.example>"
    )
    page.get_by_label("Login name").fill("paula1")
    _click(page, "Save the login")
    expect(page.locator("#id_login_error")).to_have_text(
        "paula1 is already the login of Paula Investigator on jupiter."
    )
    screenshot(page, "91-cluster-login-taken")
    page.get_by_label("Login name").fill("carl_c")
    _click(page, "Save the login")
    expect(page.get_by_role("cell", name="carl_c")).to_be_visible()
    screenshot(page, "92-cluster-login-saved")
    page.context.close()

    # -- Paula continues her allocation from the call's page.
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/?next={reverse('call_detail', args=[call.pk])}")
    _sign_in(page, paula.email)
    page.get_by_label("Start from").select_option(str(allocation.proposal_id))
    screenshot(page, "93-call-continue")
    _click(page, "Start a proposal")
    expect(page.get_by_label("Title")).to_have_value("Sparse experts at scale")
    proposal = Proposal.objects.get(call=call)
    page.goto(f"{live_server.url}{reverse('proposal_detail', args=[proposal.pk])}")
    card = page.locator("#earlier-allocation-card")
    expect(card).to_contain_text(f"Account {allocation.account}")
    expect(card.get_by_role("row", name="JUPITER Booster")).to_contain_text(
        "12,000 GPU-hours 9,000 GPU-hours 500 GPU-hours"
    )
    screenshot(page, "94-continuation-detail")
