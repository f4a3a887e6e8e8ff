"""Decisions to allocation from end to end (PRODUCT §6, §8): a call manager signs in with the
authenticator's code, asks for suggested awards, changes one amount, saves and publishes
after the confirm step; the principal investigator gets the decision email, opens the
decision from it, accepts the award, finds it under My allocations and opens the allocation
page with its chart and the awarded amount. Every screen is saved as a screenshot (80-
onwards).

The call is the worked example of ``tests.proposals.decisions_factories``: six proposals
submitted through the real service and reviewed, the deadline passed.
"""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from allocations.models import Allocation
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import Decision
from tests.accounts.conftest import totp_code
from tests.allocation_factories import empty_ledger
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD, make_manager, make_user
from tests.proposals.decisions_factories import worked_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
PAULA = "paula.pi@uni.example"
MESSAGE = "Congratulations: a strong proposal. We trimmed the request a little."


@pytest.fixture
def _empty_ledger_afterwards():
    """Publishing writes ledger entries, and the database refuses to delete them (PRODUCT §8),
    so the flush that ends a transactional test would fail. Afterwards the append-only
    triggers are lifted just long enough to empty the ledger, then put back as they were."""
    yield
    empty_ledger()


def _sign_in(page: Page, email: str) -> None:
    """On allauth's sign-in page: fill it in and wait for the page it leads to."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _click(page: Page, name: str, *, role: str = "button") -> None:
    """Press a button (or follow a link) and wait for the page it loads."""
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=True).click()


def _new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.usefixtures("_empty_ledger_afterwards")
def test_awards_from_suggestion_to_allocation_chart(browser: Browser, live_server):
    paula = make_user(PAULA, full_name="Paula Investigator", affiliation="Uni Example")
    example = worked_example(pi=paula)
    call, alpha = example.call, example["ALPHA"]
    manager = make_manager(with_mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    mail.outbox.clear()

    # -- (a) The manager signs in with the authenticator's code and opens the decisions.
    page = _new_page(browser)
    decisions_path = reverse("manage_decisions", args=[call.pk])
    page.goto(f"{live_server.url}/accounts/login/?next={decisions_path}")
    _sign_in(page, manager.email)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_label("Code").fill(totp_code(secret))
    _click(page, "Sign In")
    expect(page.get_by_role("heading", name=f"Decisions of {call.code}")).to_be_visible()

    # ... asks for the suggestion: the form is filled, nothing is saved yet ...
    _click(page, "Suggest awards")
    expect(
        page.get_by_role("status").filter(has_text="Suggested awards, not saved")
    ).to_be_visible()
    amount = page.get_by_label(f"JUPITER Booster (GPU-hours) for {alpha.reference}")
    expect(amount).to_have_value(re.compile(r"^400,?000(\.00)?$"))
    expect(page.get_by_label(f"Decision on {example['FOXTROT'].reference}")).to_have_value(
        DecisionOutcome.REJECTED
    )
    screenshot(page, "80-decisions-suggested")
    assert not Decision.objects.exists()

    # ... trims ALPHA's award, writes it a message and saves.
    amount.fill("350000")
    page.get_by_label(f"Message to the applicant of {alpha.reference}").fill(MESSAGE)
    _click(page, "Save decisions")
    expect(page.get_by_text("6 decisions saved.")).to_be_visible()
    budgets = page.get_by_role("table").filter(has_text="Budget").first
    expect(budgets.get_by_role("row", name=re.compile("JUPITER Booster"))).to_contain_text(
        "950,000"
    )
    screenshot(page, "81-decisions-saved")
    assert Decision.objects.get(proposal=alpha).outcome == DecisionOutcome.AWARDED

    # ... publishes, after the confirm step.
    _click(page, "Publish the decisions…")
    confirm = page.get_by_role("region", name=f"Publish the decisions of {call.code}?")
    expect(confirm.get_by_role("listitem")).to_have_text(
        ["2 awarded", "1 partially awarded", "2 waitlisted", "1 rejected"]
    )
    screenshot(page, "82-publish-confirm")
    assert not mail.outbox
    _click(page, "Yes, publish the decisions")
    expect(page.get_by_text("6 decisions are published.")).to_be_visible()
    expect(page.get_by_role("heading", name="Waitlist")).to_be_visible()
    screenshot(page, "83-decisions-published")

    # -- (b) The PI gets the decision email ...
    subject = f"[Allot] Decision on {alpha.reference}: Awarded"
    emails = [m for m in mail.outbox if m.subject == subject]
    assert [m.to for m in emails] == [[PAULA]]
    assert "JUPITER Booster: 350,000 GPU-hours" in emails[0].body
    assert len(mail.outbox) == 6  # one decision for each of the six teams
    link = re.search(r"https?://\S+(/proposals/\d+/decision/)", emails[0].body).group(1)

    # ... follows its link, signs in, reads the decision and accepts the award ...
    pi = _new_page(browser)
    pi.goto(f"{live_server.url}{link}")
    _sign_in(pi, PAULA)
    expect(pi.get_by_role("heading", name="Decision", exact=True)).to_be_visible()
    outcome = pi.get_by_role("region", name="The committee's decision")
    expect(outcome).to_contain_text("Awarded")
    expect(outcome).to_contain_text("350,000 GPU-hours")
    expect(outcome).to_contain_text(MESSAGE)
    screenshot(pi, "84-applicant-decision")
    _click(pi, "Accept the award")
    expect(pi.get_by_text("You accepted the award.")).to_be_visible()
    expect(pi.get_by_role("button", name="Accept the award")).to_have_count(0)
    screenshot(pi, "85-award-accepted")

    # ... finds it under My allocations and opens the allocation with its chart.
    allocation = Allocation.objects.get(proposal=alpha)
    _click(pi, "My allocations", role="link")
    card = pi.get_by_role("region", name=allocation.account)
    expect(card).to_contain_text("350,000")
    screenshot(pi, "86-my-allocations")
    with pi.expect_navigation():
        card.get_by_role("link", name=allocation.account).click()
    expect(pi.get_by_role("heading", name=f"Allocation {allocation.account}")).to_be_visible()
    expect(pi.locator("figure svg").first).to_be_visible()
    expect(pi.get_by_role("region", name="Used and left")).to_contain_text("350,000")
    screenshot(pi, "87-allocation")
    pi.set_viewport_size(PHONE)
    expect(pi.locator("figure svg").first).to_be_visible()
    screenshot(pi, "88-phone-allocation")
