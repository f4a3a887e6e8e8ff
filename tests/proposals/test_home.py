"""The home page (PRODUCT §9): what waits for each person, each with its link; where sign-in
lands; a constant number of queries (PRODUCT §10).

The page is personal: there is no other person's home to refuse (no 403 or 404 case); the
anonymous visitor is sent to the calls.
"""

import html
import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.formatting import format_instant
from allocations.services.publishing import decisions_publish
from proposals.home.selectors import waiting_for
from proposals.review.enums import ConflictReason, ConflictStatus
from proposals.review.models import Conflict
from proposals.review.services.conflicts import conflict_declare
from proposals.submission.enums import TeamStatus
from tests.allocation_factories import make_allocation
from tests.conftest import make_user
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_member,
    complete_proposal,
    make_call_closing,
    make_proposal,
)
from tests.proposals.decisions_factories import decide_all, on_committee, worked_example
from tests.proposals.reviewing_factories import accepted, assign, submitted_proposal

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
URL = reverse("home")
# Twelve days before the reviews' due date (reviewing_factories.DUE, 1 Mar 2099, 17:00 CET).
IN_REVIEW = datetime(2099, 2, 17, 17, 0, tzinfo=BERLIN)
# Ten days before the call's deadline (DEADLINE, 15 Jan 2099, 17:00 CET).
WRITING = datetime(2099, 1, 5, 17, 0, tzinfo=BERLIN)


def shown(user, now: datetime) -> dict[str, list[tuple[str, str, str, str]]]:
    """What waits for ``user`` at ``now``: section key → (text, detail, url, action) rows."""
    return {
        section.key: [(i.text, i.detail, i.url, i.action) for i in section.items]
        for section in waiting_for(user=user, now=now, zone=BERLIN)
    }


def page_items(page: str) -> dict[str, list[str]]:
    """The page's sections by id, each item's text as read (tags out, spaces folded)."""
    found = {}
    for key, body in re.findall(
        r'<section class="card waiting" id="([a-z]+)"(.*?)</section>', page, re.S
    ):
        items = re.findall(r'<li class="waiting-item">(.*?)</li>', body, re.S)
        found[key] = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", i)).split()) for i in items]
    return found


@pytest.fixture
def call(db):
    return make_call_closing()


def test_reviewer_sees_the_invitation_and_the_review_due_with_days_left(call, pi, reviewer):
    first = submitted_proposal(call, pi, acronym="FIRST", title="First study")
    second = submitted_proposal(
        call, make_user("pi2@uni.example"), acronym="SECOND", title="Second study"
    )
    invitation = assign(first, reviewer)
    review = accepted(second, reviewer)

    assert shown(reviewer, IN_REVIEW) == {
        "invitations": [
            (
                f"Review {first.reference} FIRST: First study",
                "JUPITER 2027-1 · Scientific review · due 1 Mar 2099, 17:00 CET · 12 days left",
                reverse("review_detail", args=[invitation.pk]),
                "Accept or decline",
            )
        ],
        "reviews": [
            (
                f"{second.reference} SECOND: Second study",
                "JUPITER 2027-1 · Scientific review · due 1 Mar 2099, 17:00 CET · 12 days left",
                reverse("review_edit", args=[review.pk]),
                "Write the review",
            )
        ],
    }


def test_an_overdue_review_says_since_when(call, pi, reviewer):
    proposal = submitted_proposal(call, pi, acronym="LATE", title="Late study")
    accepted(proposal, reviewer)

    [(_, detail, _, _)] = shown(reviewer, IN_REVIEW + timedelta(days=13))["reviews"]

    assert detail == "JUPITER 2027-1 · Scientific review · overdue since 1 Mar 2099, 17:00 CET"


def test_reviews_in_conflict_are_left_out(call, pi, reviewer):
    proposal = submitted_proposal(call, pi)
    assign(proposal, reviewer)
    conflict_declare(proposal=proposal, reviewer=reviewer, detail="My former student.")

    assert shown(reviewer, IN_REVIEW) == {}


def test_pi_and_co_investigator_see_the_draft_with_what_is_missing(call, pi, coi):
    draft = make_proposal(call, pi, acronym="DRAFTY", title="A draft")
    add_member(draft, coi)

    expected = [
        (
            "DRAFTY: A draft",
            "JUPITER 2027-1 · closes 15 Jan 2099, 17:00 CET · 10 days left · "
            "missing: abstract, field of science, keywords and 8 more",
            reverse("proposal_detail", args=[draft.pk]),
            "Continue the draft",
        )
    ]
    assert shown(pi, WRITING) == {"drafts": expected}
    assert shown(coi, WRITING) == {"drafts": expected}


def test_a_complete_draft_says_it_is_not_submitted_and_a_closed_call_drops_it(call, pi):
    complete_proposal(call, pi, acronym="READY", title="Ready")

    [(_, detail, _, _)] = shown(pi, WRITING)["drafts"]

    assert detail == (
        "JUPITER 2027-1 · closes 15 Jan 2099, 17:00 CET · 10 days left · "
        "complete, not yet submitted"
    )
    assert shown(pi, DEADLINE) == {}


def test_an_invited_co_investigator_sees_the_team_invitation(call, pi, coi):
    draft = make_proposal(call, pi, acronym="TEAM", title="Team work")
    member = add_member(draft, email=coi.email, status=TeamStatus.INVITED)

    assert shown(coi, WRITING) == {
        "invitations": [
            (
                "Join the team of TEAM: Team work",
                "JUPITER 2027-1 · invited by Paula Investigator",
                reverse("invitation", args=[member.token]),
                "Answer the invitation",
            )
        ]
    }


def test_committee_reads_the_ranking_of_a_closed_call_until_decisions_are_published(
    committee, manager, pi
):
    example = worked_example(pi=pi)
    on_committee(example.call, committee)
    now = timezone.now()

    assert shown(committee, now) == {
        "rankings": [
            (
                "JUPITER 2027-1",
                "JUPITER 2027-1 call for proposals · decisions due "
                + format_instant(example.call.decisions_due_at, BERLIN),
                reverse("call_ranking", args=[example.call.pk]),
                "Read the ranking",
            )
        ]
    }
    decide_all(example, manager)
    decisions_publish(call=example.call, by=manager)
    assert "rankings" not in shown(committee, timezone.now())


def test_manager_sees_conflicts_to_decide_and_decisions_to_publish(manager, pi, reviewer):
    example = worked_example(pi=pi)
    add_call_role(example.call, reviewer, "reviewer")
    for acronym in ("ALPHA", "BRAVO"):
        Conflict.objects.create(
            proposal=example[acronym],
            reviewer=reviewer,
            reason=ConflictReason.AFFILIATION,
            status=ConflictStatus.DETECTED,
        )
    decide_all(example, manager)

    waiting = shown(manager, timezone.now())

    assert waiting == {
        "conflicts": [
            (
                "JUPITER 2027-1",
                "2 detected conflicts to confirm or dismiss",
                reverse("manage_conflicts", args=[example.call.pk]) + "?status=detected",
                "Decide the conflicts",
            )
        ],
        "decisions": [
            (
                "JUPITER 2027-1",
                "6 decisions saved · due " + format_instant(example.call.decisions_due_at, BERLIN),
                reverse("manage_decisions", args=[example.call.pk]),
                "Review and publish",
            )
        ],
    }


def test_a_manager_without_the_second_factor_is_shown_no_manager_work(pi, reviewer):
    from tests.conftest import make_manager

    example = worked_example(pi=pi)
    Conflict.objects.create(
        proposal=example["ALPHA"],
        reviewer=reviewer,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.DETECTED,
    )
    unconfirmed = make_manager("unconfirmed@centre.example", with_mfa=False)

    assert shown(unconfirmed, timezone.now()) == {}


def test_pi_sees_the_award_to_accept(manager, pi):
    example = worked_example(pi=pi)
    decide_all(example, manager)
    decisions_publish(call=example.call, by=manager)
    alpha = example["ALPHA"]
    alpha.refresh_from_db()

    assert shown(pi, timezone.now()) == {
        "awards": [
            (
                "ALPHA: The ALPHA project",
                f"JUPITER 2027-1 · {alpha.reference} · awarded 400,000 GPU-hours (JUPITER Booster)",
                reverse("decision_detail", args=[alpha.pk]),
                "Accept or decline the award",
            )
        ]
    }


def test_pi_sees_the_final_report_due_and_overdue(pi):
    due = make_allocation(pi=pi, start=date(2098, 5, 1), end=date(2099, 4, 30), acronym="ENDED")
    now = datetime(2099, 5, 10, 12, 0, tzinfo=BERLIN)

    assert shown(pi, now) == {
        "reports": [
            (
                f"{due.account} · ENDED: Project {due.proposal.title.split()[-1]}",
                "Final report due: due 25 Jun 2099",
                reverse("allocation_report", args=[due.pk]),
                "Upload the final report",
            )
        ]
    }
    [(_, detail, _, _)] = shown(pi, datetime(2099, 7, 1, 12, 0, tzinfo=BERLIN))["reports"]
    assert detail == "Final report overdue: due 25 Jun 2099"
    assert shown(pi, datetime(2099, 4, 29, 12, 0, tzinfo=BERLIN)) == {}


def test_the_page_lists_each_section_with_its_links(client, call, pi, reviewer):
    proposal = submitted_proposal(call, pi, acronym="PAGE", title="On the page")
    # Half an hour from a whole hour, so the page's "5 days 1 hour left" holds while it runs.
    invitation = assign(proposal, reviewer, due_at=timezone.now() + timedelta(days=5, minutes=90))
    client.force_login(reviewer)

    page = client.get(URL).content.decode()

    due = format_instant(invitation.due_at, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    assert page_items(page) == {
        "invitations": [
            f"Review {proposal.reference} PAGE: On the page "
            f"JUPITER 2027-1 · Scientific review · due {due} · 5 days 1 hour left "
            f"Accept or decline · Review {proposal.reference} PAGE: On the page"
        ]
    }
    assert f'href="{reverse("review_detail", args=[invitation.pk])}"' in page
    assert "<title>What waits for you · Allot</title>" in page


def test_nothing_waits_for_an_outsider(client, outsider):
    client.force_login(outsider)

    page = client.get(URL).content.decode()

    assert page_items(page) == {}
    assert "Nothing waits for you." in page


def test_the_anonymous_visitor_is_sent_to_the_calls(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("call_list")


def test_post_is_refused(client, outsider):
    client.force_login(outsider)

    response = client.post(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_sign_in_lands_on_the_home_page(client, pi):
    response = client.post(
        reverse("account_login"), {"login": pi.email, "password": "correct-horse-battery-42"}
    )

    assert response["Location"] == URL
    assert settings.LOGIN_REDIRECT_URL == "home"


def test_the_committee_has_a_menu_entry_for_its_ranking(client, call, committee):
    on_committee(call, committee)
    client.force_login(committee)

    page = client.get(reverse("call_list")).content.decode()

    assert f'<a href="{reverse("call_ranking", args=[call.pk])}" >Ranking</a>' in page


def test_with_two_committees_the_menu_leads_to_the_list_of_them(client, call, committee):
    on_committee(call, committee)
    on_committee(make_call_closing(code="JUPITER 2027-2"), committee)
    client.force_login(committee)

    page = client.get(reverse("call_list")).content.decode()

    assert f'<a href="{reverse("my_reviews")}#committees-heading" >Ranking</a>' in page


def _world(size: int, manager, reviewer, committee, pi) -> None:
    """``size`` of each thing that waits, for each of the people."""
    call = make_call_closing(code=f"SIZE {size}-1")
    on_committee(call, committee)
    for n in range(size):
        owner = make_user(f"pi{size}-{n}@uni.example")
        proposal = submitted_proposal(call, owner, acronym=f"S{size}N{n}")
        assign(proposal, reviewer)
        Conflict.objects.create(
            proposal=proposal,
            reviewer=make_user(f"r{size}-{n}@x.example"),
            reason=ConflictReason.AFFILIATION,
            status=ConflictStatus.DETECTED,
        )
        make_proposal(call, pi, acronym=f"D{size}N{n}")
        make_allocation(pi=pi, start=date(2098, 5, 1), end=date(2099, 4, 30))


@pytest.mark.parametrize("person", ["manager", "reviewer", "committee", "pi"])
def test_queries_do_not_grow_with_what_waits(person, manager, reviewer, committee, pi, client):
    user = {"manager": manager, "reviewer": reviewer, "committee": committee, "pi": pi}[person]
    client.force_login(user)
    counts = []
    for size in (1, 3):
        _world(size, manager, reviewer, committee, pi)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
