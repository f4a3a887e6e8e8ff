"""People (issue 14): each persona signs in and finds on the home page exactly what waits for
them; the main screens neither scroll sideways on a phone (390×844) nor on a laptop
(1366×768), with screenshots and axe on each; the compact menu; a refused form takes the focus
to its error and says "Error:" in the title.

The world is built through the services (worked_example for the published call), the clock
is not moved: every due date is relative to now.
"""

from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from allocations.services.publishing import decisions_publish
from proposals.calls.models import Call
from proposals.decisions.enums import AwardResponse, DecisionOutcome
from proposals.decisions.models import Decision
from proposals.decisions.services.saving import DecisionData, decisions_save
from proposals.review.enums import ConflictReason, ConflictStatus
from proposals.review.models import Conflict
from tests.accounts.conftest import totp_code
from tests.allocation_factories import make_allocation
from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_award_journey import _empty_ledger_afterwards  # noqa: F401
from tests.conftest import PASSWORD, make_manager, make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, add_member, make_proposal
from tests.proposals.decisions_factories import decide_all, submitted, worked_example
from tests.proposals.reviewing_factories import accepted, assign
from tests.proposals.test_ranking import in_review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_empty_ledger_afterwards"),
]

LAPTOP = {"width": 1366, "height": 768}
SIDEWAYS = "() => document.scrollingElement.scrollWidth - window.innerWidth"
# Text that a scrolling box hides beyond the screen's edge (a score, an amount, a date).
CUT = """() => [...document.querySelectorAll("main *")]
    .filter(e => e.children.length === 0 && (e.innerText || "").trim()
        && e.getBoundingClientRect().width > 1
        && e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName + " " + e.innerText.slice(0, 40))"""
# What sticks out, to say it when a page scrolls sideways.
WIDEST = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(-3).map(e => e.tagName + "." + e.className + " " + (e.innerText || "").slice(0, 30))"""


class World:
    """Everyone, and what waits for each (section id → the items' first lines)."""

    def __init__(self):
        self.pi = make_user("paula@uni.example", full_name="Paula Investigator")
        self.coi = make_user("carl@lab.example", full_name="Carl Coinvestigator")
        self.reviewer = make_user("rita@inst.example", full_name="Rita Reviewer")
        self.committee = make_user("conrad@board.example", full_name="Conrad Committee")
        self.outsider = make_user("otto@else.example", full_name="Otto Outsider")
        self.manager = make_manager(with_mfa=False)
        self.secret = generate_totp_secret()
        TOTP.activate(self.manager, self.secret)
        self.manager.second_factor_passed = True

        # A published call: ALPHA (Paula's) is awarded and waits for her answer.
        self.published = worked_example(pi=self.pi)
        decide_all(self.published, self.manager)
        decisions_publish(call=self.published.call, by=self.manager)

        # A call in review: Rita is invited to one proposal and writes another; Conrad reads
        # its ranking; a conflict waits for a manager; one decision is saved, not published.
        self.review_call = make_call("JUWELS 2027-2", reference_prefix="JUW27-2")
        first = submitted(self.review_call, make_user("ida@uni.example"), "IOTA", 100_000)
        second = submitted(self.review_call, make_user("kim@uni.example"), "KAPPA", 100_000)
        third = submitted(self.review_call, make_user("lee@uni.example"), "LAMBDA", 100_000)
        in_review(self.review_call)
        self.invitation = assign(first, self.reviewer, due_at=timezone.now() + timedelta(days=9))
        self.review = accepted(second, self.reviewer, due_at=timezone.now() + timedelta(days=9))
        add_call_role(self.review_call, self.committee)
        other = make_user("zora@review.example", full_name="Zora Second")
        add_call_role(self.review_call, other, "reviewer")
        Conflict.objects.create(
            proposal=third,
            reviewer=other,
            reason=ConflictReason.AFFILIATION,
            status=ConflictStatus.DETECTED,
        )
        decisions_save(
            call=self.review_call,
            by=self.manager,
            rows=[DecisionData(proposal=third, outcome=DecisionOutcome.REJECTED, amounts={})],
        )

        # An open call: Paula's draft, Carl on its team.
        self.open_call = make_call("JUPITER 2028-1", reference_prefix="JUP28-1")
        self.draft = make_proposal(self.open_call, self.pi, acronym="DRAFTY", title="A draft")
        add_member(self.draft, self.coi)

        # An allocation whose period ended ten days ago: its final report is due.
        ended = timezone.now().date() - timedelta(days=10)
        self.allocation = make_allocation(
            pi=self.pi,
            start=ended - timedelta(days=365),
            end=ended,
            acronym="ENDED",
            awarded=None,
        )
        # As publishing would have left it (the builder writes the decision directly).
        Decision.objects.filter(pk=self.allocation.proposal.decision.pk).update(
            published_at=timezone.now() - timedelta(days=400),
            response=AwardResponse.ACCEPTED,
            responded_at=timezone.now() - timedelta(days=399),
        )
        Call.objects.filter(pk=self.allocation.proposal.call_id).update(
            decisions_published_at=timezone.now() - timedelta(days=400)
        )

        alpha = self.published["ALPHA"]
        alpha.refresh_from_db()
        self.expected = {
            self.pi.email: {
                "drafts": ["DRAFTY: A draft"],
                "awards": ["ALPHA: The ALPHA project"],
                "reports": [f"{self.allocation.account} · ENDED: {self.allocation.proposal.title}"],
            },
            self.coi.email: {"drafts": ["DRAFTY: A draft"]},
            self.reviewer.email: {
                "invitations": [f"Review {first.reference} IOTA: The IOTA project"],
                "reviews": [f"{second.reference} KAPPA: The KAPPA project"],
            },
            self.committee.email: {"rankings": ["JUWELS 2027-2"]},
            self.manager.email: {"conflicts": ["JUWELS 2027-2"], "decisions": ["JUWELS 2027-2"]},
            self.outsider.email: {},
        }


def _new_page(browser: Browser, viewport=LAPTOP) -> Page:
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page: Page, base: str, world: World, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if email == world.manager.email:
        page.get_by_label("Code").fill(totp_code(world.secret))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign In").click()


def waiting_on(page: Page) -> dict[str, list[str]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("section.waiting")].map(
            s => [s.id, [...s.querySelectorAll(".waiting-what strong")].map(e => e.innerText)]))"""
    )


def assert_fits(page: Page, name: str) -> None:
    """No sideways scroll at the phone's and the laptop's width; screenshots of both (and axe,
    in ``screenshot``)."""
    for label, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        overflow = page.evaluate(SIDEWAYS)
        wide = page.evaluate(WIDEST)
        screenshot(page, f"people-{name}-{label}")
        assert overflow == 0, (
            f"{name} scrolls sideways by {overflow}px at {viewport['width']}px: {wide}"
        )
        cut = page.evaluate(CUT)
        assert cut == [], f"{name} cuts text off at {viewport['width']}px: {cut}"
    page.set_viewport_size(LAPTOP)


def test_each_person_finds_what_waits_for_them(browser: Browser, live_server):
    world = World()
    for email, expected in world.expected.items():
        page = _new_page(browser)
        sign_in(page, live_server.url, world, email)

        assert page.url == f"{live_server.url}/"
        expect(page.get_by_role("heading", name="What waits for you", level=1)).to_be_visible()
        assert waiting_on(page) == expected, email
        if not expected:
            expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
        assert_fits(page, "home-" + email.split("@")[0])
        page.context.close()

    # Each item leads where the work is done: Rita's invitation, Conrad's ranking.
    page = _new_page(browser)
    sign_in(page, live_server.url, world, world.committee.email)
    expect(page.get_by_role("link", name="Ranking", exact=True)).to_have_attribute(
        "href", reverse("call_ranking", args=[world.review_call.pk])
    )
    with page.expect_navigation():
        page.get_by_role("link", name="Read the ranking · JUWELS 2027-2").click()
    assert page.url.endswith(reverse("call_ranking", args=[world.review_call.pk]))
    page.context.close()


def test_main_screens_fit_a_phone_and_a_laptop(browser: Browser, live_server):
    world = World()
    alpha = world.published["ALPHA"]
    call = world.published.call
    screens = {
        world.manager.email: [
            ("manage-calls", reverse("manage_call_list")),
            ("assignment", reverse("manage_assignment", args=[world.review_call.pk])),
            ("conflicts", reverse("manage_conflicts", args=[world.review_call.pk])),
            ("decisions", reverse("manage_decisions", args=[call.pk])),
            ("ranking", reverse("call_ranking", args=[call.pk])),
            ("manage-allocations", reverse("manage_allocations")),
            ("manage-allocation", reverse("manage_allocation", args=[world.allocation.pk])),
            ("audit", reverse("call_audit", args=[call.pk])),
            ("outbox", reverse("outbox_list")),
            ("people", reverse("manage_call_people", args=[call.pk])),
        ],
        world.pi.email: [
            ("calls", reverse("call_list")),
            ("call", reverse("call_detail", args=[world.open_call.pk])),
            ("my-proposals", reverse("my_proposals")),
            ("proposal", reverse("proposal_detail", args=[alpha.pk])),
            ("version", reverse("proposal_version", args=[alpha.pk, 1])),
            ("decision", reverse("decision_detail", args=[alpha.pk])),
            ("my-allocations", reverse("my_allocations")),
            ("allocation", reverse("allocation_detail", args=[world.allocation.pk])),
            ("draft", reverse("proposal_detail", args=[world.draft.pk])),
        ],
        world.reviewer.email: [
            ("my-reviews", reverse("my_reviews")),
            ("review", reverse("review_edit", args=[world.review.pk])),
        ],
    }
    for email, pages in screens.items():
        page = _new_page(browser)
        sign_in(page, live_server.url, world, email)
        for name, url in pages:
            page.goto(live_server.url + url)
            assert_fits(page, name)
        page.context.close()


def test_the_phone_menu_folds_behind_one_button(browser: Browser, live_server):
    world = World()
    page = _new_page(browser, PHONE)
    sign_in(page, live_server.url, world, world.pi.email)
    header = page.locator(".site-header")
    toggle = page.get_by_role("button", name="Menu")

    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="My proposals")).to_be_hidden()
    assert header.bounding_box()["height"] <= 64
    screenshot(page, "people-menu-folded-phone")

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="My proposals")).to_be_visible()
    assert page.evaluate(SIDEWAYS) == 0
    screenshot(page, "people-menu-open-phone")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    page.set_viewport_size(LAPTOP)
    expect(toggle).to_be_hidden()
    expect(page.get_by_role("link", name="My proposals")).to_be_visible()


def test_a_refused_form_takes_the_focus_to_its_error(browser: Browser, live_server):
    world = World()
    page = _new_page(browser)
    sign_in(page, live_server.url, world, world.manager.email)
    page.goto(live_server.url + reverse("manage_assignment", args=[world.review_call.pk]))
    title = page.title()
    field = page.get_by_label("Reviewer for JUW27-2-0003 (part of a name or email)")

    field.fill("nobody at all")
    with page.expect_navigation():
        page.get_by_role("button", name="Assign a reviewer to JUW27-2-0003").click()

    assert page.title() == "Error: " + title
    error = page.locator("#proposal-" + str(Conflict.objects.get().proposal_id) + " .row-error")
    expect(error).to_be_focused()
    expect(error).to_have_text(
        "No reviewer of this call's pool matches “nobody at all”. "
        "Type part of a name or email and choose from the list."
    )
    expect(field).to_have_value("nobody at all")
    assert_fits(page, "assignment-refused")

    # Part of a name picks the one person it matches; the page says so in its live region.
    field = page.get_by_label("Reviewer for JUW27-2-0003 (part of a name or email)")
    field.fill("rita")
    with page.expect_navigation():
        page.get_by_role("button", name="Assign a reviewer to JUW27-2-0003").click()
    expect(page.get_by_role("status").filter(has_text="is invited")).to_have_text(
        "Rita Reviewer is invited to review JUW27-2-0003."
    )
    assert not page.title().startswith("Error:")
