"""A reviewer's list of invitations and reviews (PRODUCT §5.1, §5.2): what each row says,
what is left out, and a constant number of queries (PRODUCT §10)."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.calls.services import call_archive
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.services.conflicts import conflict_declare
from proposals.review.services.reviewing import review_decline, review_submit
from proposals.submission.services.lifecycle import call_local
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.helpers import login_url_for
from tests.proposals.reviewing_factories import (
    DUE_TEXT,
    accepted,
    assign,
    criteria_ids,
    signed_in,
    submitted_proposal,
)

URL = reverse("my_reviews")


@pytest.fixture
def call(db):
    return make_call()


@pytest.fixture
def proposal(call, pi):
    return submitted_proposal(call, pi)


def rows(page: str, section: str) -> list[str]:
    """The text of each row of a table, cells joined by " | "."""
    part = page.split(f'id="{section}"')[1].split("</table>")[0]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
        found.append(" | ".join(texts))
    return found


def submit(review: Review) -> None:
    excellence, feasibility = criteria_ids(review.proposal.call)
    review.refresh_from_db()
    review_submit(
        review=review,
        by=review.reviewer,
        expected_version=review.lock_version,
        data={"comment_to_applicant": "Fine.", "recommendation": "fund"},
        scores={excellence: 3, feasibility: 3},
    )


def test_invitations_and_reviews_each_with_proposal_call_due_date_and_state(
    call, pi, proposal, reviewer
):
    second = submitted_proposal(call, make_user("pi2@uni.example"), acronym="TWO", title="Two")
    third = submitted_proposal(call, make_user("pi3@uni.example"), acronym="THREE", title="Three")
    invitation = assign(proposal, reviewer)
    writing = accepted(second, reviewer)
    done = accepted(third, reviewer, kind=ReviewKind.TECHNICAL)
    request = third.requests.get()
    review_submit(
        review=done,
        by=reviewer,
        expected_version=done.lock_version,
        data={"verdict": "feasible"},
        recommended={request.call_resource_id: request.amount},
    )

    page = signed_in(reviewer).get(URL).content.decode()

    # The due date is fixed and the clock is not: "26385 days 3 hours left", and in the hour
    # before 17:00 Berlin time "26385 days left" (no hours to show). The time left itself is
    # tested with due dates relative to now, below.
    left = re.compile(r"\d+ days?(?: \d+ hours?)? left")
    assert [left.sub("<time left>", row) for row in rows(page, "invitations-heading")] == [
        "SPARSE-MOE: Scaling laws of sparse mixture-of-experts language models | JUP27-1-0001 "
        f"| JUPITER 2027-1 | Scientific review | {DUE_TEXT} <time left> "
        "| Accept or decline · SPARSE-MOE"
    ]
    assert [left.sub("<time left>", row) for row in rows(page, "reviews-heading")] == [
        f"TWO: Two | JUP27-1-0002 | JUPITER 2027-1 | Scientific review | {DUE_TEXT} "
        "<time left> | Not started",
        f"THREE: Three | JUP27-1-0003 | JUPITER 2027-1 | Technical review | {DUE_TEXT} "
        "Submitted in time | Submitted",
    ]
    assert f'href="{reverse("review_detail", args=[invitation.pk])}"' in page
    assert f'href="{reverse("review_edit", args=[writing.pk])}"' in page


def test_the_time_left_to_the_due_date(proposal, reviewer):
    assign(proposal, reviewer, due_at=timezone.now() + timedelta(days=3, hours=2, minutes=30))

    page = signed_in(reviewer).get(URL).content.decode()

    assert "3 days 2 hours left" in rows(page, "invitations-heading")[0]


def test_an_overdue_review_says_overdue(proposal, reviewer):
    accepted(proposal, reviewer, due_at=timezone.now() - timedelta(hours=3))

    page = signed_in(reviewer).get(URL).content.decode()

    assert rows(page, "reviews-heading")[0].endswith("Overdue | Not started")


def test_declined_removed_conflicted_and_other_peoples_reviews_are_left_out(
    call, pi, proposal, reviewer
):
    declined = assign(proposal, reviewer)
    review_decline(review=declined, by=reviewer, reason="No time.")
    removed = submitted_proposal(call, make_user("pi2@uni.example"), acronym="GONE")
    Review.objects.filter(pk=assign(removed, reviewer).pk).update(state=ReviewState.REMOVED)
    conflicted = submitted_proposal(call, make_user("pi3@uni.example"), acronym="CONFLICT")
    assign(conflicted, reviewer)
    conflict_declare(proposal=conflicted, reviewer=reviewer, detail="My former student.")
    assign(proposal, make_user("other@inst.example"))

    page = signed_in(reviewer).get(URL).content.decode()

    assert "You have no reviews." in page
    assert "invitations-heading" not in page
    assert "reviews-heading" not in page
    assert (
        Conflict.objects.filter(
            reason=ConflictReason.DECLARED, status=ConflictStatus.DECLARED
        ).count()
        == 1
    )


def test_someone_without_reviews_is_told_so(client, outsider):
    client.force_login(outsider)

    page = client.get(URL).content.decode()

    assert "You have no reviews." in page
    assert f'<a href="{URL}" aria-current="page">My reviews</a>' in page


def test_committee_members_find_the_ranking_of_each_of_their_calls(call, committee, reviewer):
    add_call_role(call, committee)
    add_call_role(call, reviewer, CallRoleKind.REVIEWER)  # the pool is no committee
    archived = make_call("OLD 2025-2")
    add_call_role(archived, committee)
    call_archive(call=archived, by=None)
    add_call_role(make_call("B 2027-2"), make_user("other@board.example"))

    page = signed_in(committee).get(URL).content.decode()

    assert rows(page, "committees-heading") == [
        f"JUPITER 2027-1 {call.name} | Open | {call_local(call.review_due_at, call)} | "
        "Ranking JUPITER 2027-1"
    ]
    assert f'href="{reverse("call_ranking", args=[call.pk])}"' in page
    assert "committees-heading" not in signed_in(reviewer).get(URL).content.decode()


def test_signed_in_people_find_the_page_in_the_navigation(client, pi):
    client.force_login(pi)

    assert (
        f'<a href="{URL}" >My reviews</a>' in client.get(reverse("my_proposals")).content.decode()
    )


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == login_url_for(URL)


def test_post_is_not_allowed_but_head_is(reviewer):
    client = signed_in(reviewer)

    assert client.post(URL).status_code == 405
    assert client.head(URL).status_code == 200


def test_the_list_reads_in_the_same_number_of_queries_for_one_or_three(call, pi, reviewer):
    client = signed_in(reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    assign(submitted_proposal(call, pi), reviewer)
    one = count()
    accepted(submitted_proposal(call, make_user("pi2@uni.example"), acronym="TWO"), reviewer)
    done = accepted(
        submitted_proposal(call, make_user("pi3@uni.example"), acronym="THREE"), reviewer
    )
    submit(done)

    three = count()

    assert one == three
