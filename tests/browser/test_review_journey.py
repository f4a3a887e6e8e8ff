"""Peer review of a call from end to end (PRODUCT §5): a call manager asks for the optimal
assignment, looks at it and applies it; a reviewer gets the email, accepts declaring no
conflict, reads the proposal, saves a draft, is told what is missing, submits once and finds
the review locked; a committee member reads the ranking with the budget line, the reviews of
the proposal and the CSV export. Every screen is saved as a screenshot (59- onwards).

The proposals, the pool and the committee are built through the services; the call then
closes (the clock moves, nothing else). The second reviewer's reviews go through the
reviewing services too, so that the ranking has figures for every proposal.
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, timezone
from playwright.sync_api import Browser, Page, expect

from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import review_accept, review_submit
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.accounts.conftest import totp_code
from tests.browser.conftest import PHONE, screenshot
from tests.conftest import PASSWORD, make_manager, make_user
from tests.factories import make_call, make_resource
from tests.proposal_factories import add_call_role, complete_proposal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
RITA = "rita.reviewer@inst.example"
ZORA = "zora.second@review.example"
CONRAD = "conrad.committee@board.example"
COMMENT = "A clear plan; the scaling runs on 64 and 128 GPUs are convincing."
CONFIDENTIAL = "Strong team, but the request is generous for the first year."


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


def _on_phone(page: Page, name: str) -> None:
    page.set_viewport_size(PHONE)
    screenshot(page, name)
    page.set_viewport_size(LAPTOP)


def _new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.set_default_timeout(10_000)
    return page


def _call_in_review() -> tuple[Call, dict[str, Proposal]]:
    """A call with a budget of 250,000 GPU-hours, three proposals of 100,000 each submitted
    through the real service, a reviewer pool of two and a committee of one; then the
    deadline passes."""
    call = make_call(
        "JUPITER 2027-1",
        resources=[(make_resource(), Decimal(250_000), Decimal(10_000), Decimal(200_000))],
    )
    proposals = {}
    for acronym, email, name, affiliation, fields in [
        ("SPARSE-MOE", "paula.pi@uni.example", "Paula Investigator", "Uni Example", {}),
        (
            "CLIM-EMU",
            "cem@climate.example",
            "Cem Climate",
            "Climate Lab",
            {
                "title": "Emulating regional climate with diffusion models",
                "keywords": ["climate", "diffusion models", "language models"],
            },
        ),
        (
            "FOLD-LM",
            "fay@bio.example",
            "Fay Folding",
            "Bio Institute",
            {
                "title": "Protein language models for folding at scale",
                "keywords": ["protein folding", "language models"],
            },
        ),
    ]:
        pi = make_user(email, full_name=name, affiliation=affiliation)
        proposal = complete_proposal(
            call, pi, acronym=acronym, pi_affiliation=affiliation, **fields
        )
        proposal_submit(proposal=proposal, by=pi)
        proposals[acronym] = proposal
    for email, name, affiliation, keywords in [
        (RITA, "Rita Reviewer", "Inst Example", ["language models", "mixture of experts"]),
        (ZORA, "Zora Second", "Review Institute", ["language models", "climate"]),
    ]:
        person = make_user(email, full_name=name, affiliation=affiliation, keywords=keywords)
        add_call_role(call, person, CallRoleKind.REVIEWER)
    add_call_role(call, make_user(CONRAD, full_name="Conrad Committee", affiliation="Board"))
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    call.refresh_from_db()
    return call, proposals


def _zora_reviews(call: Call, scores: dict[str, tuple[int, int]]) -> None:
    """The second reviewer accepts and submits a review of each proposal, by the services."""
    excellence, feasibility = call.criteria.order_by("position")
    for review in Review.objects.filter(reviewer__email=ZORA).select_related("proposal"):
        first, second = scores[review.proposal.acronym]
        review_accept(review=review, by=review.reviewer)
        review_submit(
            review=review,
            by=review.reviewer,
            expected_version=review.lock_version,
            data={
                "comment_to_applicant": f"Zora's comment on {review.proposal.acronym}.",
                "confidential_comment": "",
                "recommendation": "fund",
            },
            scores={excellence.pk: first, feasibility.pk: second},
        )


def test_peer_review_from_assignment_to_ranking(browser: Browser, live_server):
    call, proposals = _call_in_review()
    sparse = proposals["SPARSE-MOE"]
    manager = make_manager(with_mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    mail.outbox.clear()

    # -- (a) The manager signs in with the authenticator's code and opens the assignment.
    page = _new_page(browser)
    page.goto(f"{live_server.url}/accounts/login/?next={reverse('manage_call_list')}")
    _sign_in(page, manager.email)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_label("Code").fill(totp_code(secret))
    _click(page, "Sign In")
    expect(page.get_by_role("heading", name="Manage calls")).to_be_visible()
    screenshot(page, "59-manage-calls")
    _on_phone(page, "59-phone-manage-calls")
    # Every action of a call is on its dashboard, with the call's figures.
    _click(page, "Dashboard JUPITER 2027-1", role="link")
    expect(page.get_by_role("heading", name="Dashboard of JUPITER 2027-1")).to_be_visible()
    expect(page.get_by_role("heading", name="3 proposals submitted")).to_be_visible()
    screenshot(page, "59-call-dashboard")
    _on_phone(page, "59-phone-call-dashboard")
    _click(page, "Statistics of this call", role="link")
    expect(page.get_by_role("heading", name="Statistics of JUPITER 2027-1")).to_be_visible()
    screenshot(page, "59-statistics")
    _on_phone(page, "59-phone-statistics")
    page.go_back()
    _click(page, "Reviewer assignment", role="link")
    expect(
        page.get_by_role("heading", name="Reviewer assignment for JUPITER 2027-1")
    ).to_be_visible()
    expect(
        page.get_by_text("3 proposals in review; 3 still need reviewers (6 missing).")
    ).to_be_visible()
    screenshot(page, "60-assignment")

    _click(page, "Suggest assignment")
    expect(
        page.get_by_role("heading", name="Suggested reviewers for JUPITER 2027-1")
    ).to_be_visible()
    pairs = page.get_by_role("table")
    expect(pairs.get_by_role("row")).to_have_count(7)
    screenshot(page, "61-assignment-preview")
    assert Review.objects.count() == 0  # nothing changes before the manager confirms

    # the first of the two apply buttons (above the table; the second is below it)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply: invite 6 reviewers", exact=True).first.click()
    expect(page.get_by_text("6 reviewers invited.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(sparse.reference))
    expect(row).to_contain_text("Rita Reviewer")
    expect(row).to_contain_text("Zora Second")
    screenshot(page, "62-assignment-applied")

    # -- (b) The reviewer gets the email ...
    review = Review.objects.get(proposal=sparse, reviewer__email=RITA)
    due = dateformat.format(review.due_at.astimezone(call.tz), "j M Y")
    subject = f"[Allot] Review request: {sparse.reference} SPARSE-MOE (due {due})"
    assert sorted(m.to for m in mail.outbox if m.subject == subject) == [[RITA], [ZORA]]
    # One email per invitation: each of the two reviewers of the pool reviews all three.
    assert sorted(m.to[0] for m in mail.outbox) == [RITA] * 3 + [ZORA] * 3

    # ... signs in, finds the invitation under "My reviews" and accepts it.
    rita = _new_page(browser)
    rita.goto(f"{live_server.url}/accounts/login/")
    _sign_in(rita, RITA)
    _click(rita, "My reviews", role="link")
    invitations = rita.get_by_role("region", name="Invitations to answer")
    expect(invitations.get_by_role("row")).to_have_count(4)
    screenshot(rita, "63-my-reviews")
    with rita.expect_navigation():
        invitations.get_by_role("link", name=re.compile("Accept or decline · SPARSE-MOE")).click()
    expect(rita.get_by_role("heading", name=re.compile("SPARSE-MOE"))).to_be_visible()
    screenshot(rita, "64-invitation")
    rita.get_by_label("I have no conflict of interest with this proposal").check()
    _click(rita, "Accept the review")
    expect(rita.get_by_text("Thank you for accepting.")).to_be_visible()
    review_url = rita.url

    # ... reads the proposal, which tells her when the review is due and leads back to it ...
    _click(rita, "Read the proposal", role="link")
    expect(rita.get_by_role("heading", name=re.compile("SPARSE-MOE: Scaling laws"))).to_be_visible()
    note = rita.get_by_role("note", name="Your review")
    expect(note).to_contain_text("You are reviewing this proposal. Due:")
    sidebar = rita.get_by_role("navigation", name="Proposal sections")
    expect(sidebar.get_by_role("link", name="Your review")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Reviews", exact=True)).to_have_count(0)
    screenshot(rita, "65-proposal-for-reviewer")
    with rita.expect_navigation():
        note.get_by_role("link", name="Write your review").click()
    assert rita.url == review_url

    # ... scores it, saves a draft without the comment and the recommendation ...
    rita.get_by_role("group", name="Scientific excellence").get_by_label("4", exact=True).check()
    rita.get_by_role("group", name="Feasibility").get_by_label("3", exact=True).check()
    rita.get_by_label("Confidential comment to the committee").fill(CONFIDENTIAL)
    _click(rita, "Save draft")
    expect(rita.get_by_text(re.compile(r"Draft saved at \d\d:\d\d:\d\d"))).to_be_visible()
    expect(
        rita.get_by_role("group", name="Scientific excellence").get_by_label("4", exact=True)
    ).to_be_checked()
    screenshot(rita, "66-review-draft-saved")
    _on_phone(rita, "66-phone-review-form")

    # ... is told, beside the fields, what submitting still needs ...
    _click(rita, "Submit review")
    problems = rita.get_by_role("alert").filter(has_text="Your review is not submitted yet")
    expect(problems).to_be_visible()
    expect(rita.get_by_label("Comment to the applicant")).to_have_accessible_description(
        re.compile("comment", re.I)
    )
    screenshot(rita, "67-review-incomplete")

    # ... completes it and submits it once: it is locked.
    rita.get_by_label("Comment to the applicant").fill(COMMENT)
    rita.get_by_role("group", name="Your recommendation").get_by_label("Fund", exact=True).check()
    _click(rita, "Submit review")
    expect(rita.get_by_text("Your review is submitted. Thank you!")).to_be_visible()
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    rita.goto(review_url)
    expect(rita.get_by_text("Your review is submitted and locked.")).to_be_visible()
    expect(rita.get_by_role("button", name="Submit review")).to_have_count(0)
    # In this call a reviewer reads the other reviews once her own is in.
    expect(rita.get_by_role("link", name="All reviews of this proposal")).to_be_visible()
    screenshot(rita, "68-review-locked")

    # -- (c) The second reviewer's reviews are in; a committee member reads the ranking.
    _zora_reviews(call, {"SPARSE-MOE": (5, 4), "CLIM-EMU": (3, 3), "FOLD-LM": (2, 2)})
    conrad = _new_page(browser)
    conrad.goto(f"{live_server.url}/accounts/login/?next={reverse('my_reviews')}")
    _sign_in(conrad, CONRAD)
    committees = conrad.get_by_role("region", name="Committees")
    expect(committees.get_by_role("row", name=re.compile("JUPITER 2027-1"))).to_be_visible()
    screenshot(conrad, "69-committee-my-reviews")
    _click(conrad, "Ranking JUPITER 2027-1", role="link")
    expect(conrad.get_by_role("heading", name="Ranking of JUPITER 2027-1")).to_be_visible()
    first = conrad.get_by_role("row", name=re.compile("SPARSE-MOE"))
    # Rita (2 × 4 + 3) / 3 = 3.67 and Zora (2 × 5 + 4) / 3 = 4.67: 4.17.
    expect(first).to_contain_text("4.17")
    expect(
        conrad.get_by_role("row", name=re.compile("Budget line: JUPITER Booster"))
    ).to_be_visible()
    screenshot(conrad, "70-ranking")
    _on_phone(conrad, "70-phone-ranking")

    with conrad.expect_navigation():
        first.get_by_role("link", name=re.compile(sparse.reference)).click()
    expect(conrad.get_by_role("heading", name="Reviews", exact=True)).to_be_visible()
    sidebar = conrad.get_by_role("navigation", name="Proposal sections")
    expect(sidebar.get_by_role("link", name="Reviews")).to_have_attribute("aria-current", "page")
    expect(conrad.get_by_text(CONFIDENTIAL)).to_be_visible()
    screenshot(conrad, "71-proposal-reviews")

    conrad.go_back()
    with conrad.expect_download() as download:
        conrad.get_by_role("link", name="Download all rows as CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    booster = "JUPITER Booster"
    assert rows[0] == [
        "Rank",
        "Reference",
        "Acronym",
        "Title",
        "Principal investigator",
        "Field",
        "Reviews submitted",
        "Reviews assigned",
        "Score",
        "Normalised score",
        "Spread",
        "Reviewers disagree",
        "Technical verdict",
        f"{booster} requested (GPU-hours)",
        f"{booster} recommended (GPU-hours)",
        f"{booster} cumulative requested (GPU-hours)",
        f"{booster} within budget",
        "Above the fundable threshold",
    ]
    assert rows[1] == [
        "1",
        sparse.reference,
        "SPARSE-MOE",
        sparse.title,
        "Paula Investigator",
        "PE6",
        "2",
        "2",
        "4.17",
        "3.97",
        "1.00",
        "no",
        "",
        "100000.00",
        "",
        "100000.00",
        "yes",
        "yes",
    ]
    # The third proposal is past the budget line and under the threshold.
    assert [row[2] for row in rows[1:]] == ["SPARSE-MOE", "CLIM-EMU", "FOLD-LM"]
    assert rows[3][-3:] == ["300000.00", "no", "no"]
