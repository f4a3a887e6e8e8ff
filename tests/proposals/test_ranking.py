"""The committee's ranking of a call (PRODUCT §5.3): order, figures, the budget line and the
threshold, who sees which rows, and a constant number of queries.

The builders at the top (``in_review``, ``scientific``, ``technical``, ``pending``) are shared
with the other tests of reading reviews. Reviews are written directly: these tests are about
reading them, and the reviewing services are tested on their own.
"""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call
from proposals.review.enums import (
    ConflictReason,
    ConflictStatus,
    Recommendation,
    ReviewKind,
    ReviewState,
)
from proposals.review.models import Conflict, Review, ReviewScore, TechnicalRecommendation
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit, proposal_withdraw
from tests.conftest import make_user
from tests.factories import make_call, make_resource
from tests.proposal_factories import add_call_role, add_member, complete_proposal, make_proposal

pytestmark = pytest.mark.django_db


# --- Builders shared with the other review-reading tests --------------------------------------


def submitted_proposal(call: Call, pi: User, acronym: str, **fields) -> Proposal:
    """A complete proposal submitted through the real service (100,000 GPU-hours asked)."""
    proposal = complete_proposal(call, pi, acronym=acronym, **fields)
    proposal_submit(proposal=proposal, by=pi)
    return proposal


def in_review(call: Call) -> None:
    """The deadline passes: the call is in review."""
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    call.refresh_from_db()


def scientific(
    proposal: Proposal,
    reviewer: User,
    excellence: int,
    feasibility: int,
    *,
    comment: str = "",
    confidential: str = "",
    recommendation: str = Recommendation.FUND,
) -> Review:
    """A submitted scientific review with a score on each of ``make_call``'s two criteria."""
    now = timezone.now()
    review = Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=ReviewKind.SCIENTIFIC,
        state=ReviewState.SUBMITTED,
        due_at=now + timedelta(days=10),
        submitted_at=now,
        comment_to_applicant=comment or f"Comment to the applicant by {reviewer.email}.",
        confidential_comment=confidential,
        recommendation=recommendation,
    )
    first, second = proposal.call.criteria.order_by("position")
    ReviewScore.objects.create(review=review, criterion=first, value=excellence)
    ReviewScore.objects.create(review=review, criterion=second, value=feasibility)
    return review


def technical(
    proposal: Proposal,
    reviewer: User,
    verdict: str,
    amount: int | None = None,
    *,
    notes: str = "",
) -> Review:
    """A submitted technical review recommending ``amount`` on the first resource."""
    now = timezone.now()
    review = Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=ReviewKind.TECHNICAL,
        state=ReviewState.SUBMITTED,
        due_at=now + timedelta(days=10),
        submitted_at=now,
        verdict=verdict,
        confidential_comment=notes,
    )
    if amount is not None:
        offer = proposal.call.call_resources.order_by("resource__name").first()
        TechnicalRecommendation.objects.create(
            review=review, call_resource=offer, amount=Decimal(amount)
        )
    return review


def pending(proposal: Proposal, reviewer: User, state: str = ReviewState.ACCEPTED) -> Review:
    """An assignment whose review is not submitted yet."""
    return Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        kind=ReviewKind.SCIENTIFIC,
        state=state,
        due_at=timezone.now() + timedelta(days=10),
    )


def conflict(proposal: Proposal, person: User, status: str = ConflictStatus.DECLARED) -> Conflict:
    return Conflict.objects.create(
        proposal=proposal,
        reviewer=person,
        reason=ConflictReason.DECLARED,
        status=status,
        detail="We wrote a paper together.",
    )


def page_text(response) -> str:
    """The visible text of a page, tags removed, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- The worked example of test_scoring, in the database --------------------------------------


def ranking_call() -> Call:
    """A call with a budget of 250,000 GPU-hours; each proposal asks for 100,000."""
    return make_call(
        resources=[(make_resource(), Decimal(250_000), Decimal(10_000), Decimal(200_000))]
    )


def build_example(call: Call, committee: User) -> dict:
    """P1–P4 of test_scoring: A reviews all four, B reviews P1 and P2, C reviews P1, P3, P4;
    a late reviewer has not submitted on P4; T's technical review of P2 recommends 80,000.
    ``committee`` sits on the call's committee."""
    people = {
        "A": make_user("anna@review.example", full_name="Anna Generous"),
        "B": make_user("bert@review.example", full_name="Bert Harsh"),
        "C": make_user("cleo@review.example", full_name="Cleo Middle"),
        "T": make_user("tess@centre.example", full_name="Tess Technical"),
        "late": make_user("late@review.example", full_name="Luis Late"),
    }
    owners = [make_user(f"pi{n}@uni.example", full_name=f"Pat Owner{n}") for n in range(1, 5)]
    p1, p2, p3, p4 = (
        submitted_proposal(call, owner, f"P{n}", title=f"Project number {n}")
        for n, owner in enumerate(owners, start=1)
    )
    in_review(call)
    a, b, c = people["A"], people["B"], people["C"]
    scientific(p1, a, 5, 5)  # 5
    scientific(p2, a, 5, 5)  # 5
    scientific(p3, a, 4, 1)  # 3
    scientific(p4, a, 3, 3)  # 3
    scientific(p1, b, 0, 0)  # 0
    scientific(p2, b, 1, 4)  # 2
    scientific(p1, c, 3, 3)  # 3
    scientific(p3, c, 2, 5)  # 3
    scientific(p4, c, 4, 1)  # 3
    pending(p4, people["late"])
    technical(p2, people["T"], "feasible_with_changes", 80_000)
    add_call_role(call, committee)
    return {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "people": people}


@pytest.fixture
def call(db):
    return ranking_call()


@pytest.fixture
def example(call, committee):
    return build_example(call, committee)


def reviewers_of() -> dict[str, User]:
    """Two reviewers and a technical one for tests that build their own proposals."""
    return {
        "A": make_user("anna@review.example", full_name="Anna Generous"),
        "B": make_user("bert@review.example", full_name="Bert Harsh"),
        "T": make_user("tess@centre.example", full_name="Tess Technical"),
        "late": make_user("late@review.example", full_name="Luis Late"),
    }


def url(call: Call) -> str:
    return reverse("call_ranking", args=[call.pk])


def figures(response) -> list[tuple]:
    return [
        (
            row.rank,
            row.acronym,
            row.submitted,
            row.assigned,
            row.score,
            row.normalised,
            row.spread,
            row.spread_flagged,
            row.verdict,
            [
                (cell.requested, cell.recommended, cell.cumulative, cell.over_budget)
                for cell in row.cells
            ],
            row.fundable,
        )
        for row in response.context["ranking"].rows
    ]


def test_committee_sees_the_proposals_ranked_with_their_figures(client, call, example, committee):
    client.force_login(committee)
    response = client.get(url(call))

    assert response.status_code == 200
    k = Decimal(1000)
    # Scores and normalised scores as worked out in test_scoring. P3 and P4 tie on both, so
    # the reference decides. Cumulative requests: 100,000 per proposal against 250,000.
    assert figures(response) == [
        (1, "P2", 2, 2, Decimal("3.50"), Decimal("4.41"), Decimal("3.00"), True,
         "feasible_with_changes", [(100 * k, 80 * k, 100 * k, False)], True),
        (2, "P3", 2, 2, Decimal("3.00"), Decimal("2.29"), Decimal("0.00"), False,
         "", [(100 * k, None, 200 * k, False)], True),
        (3, "P4", 2, 3, Decimal("3.00"), Decimal("2.29"), Decimal("0.00"), False,
         "", [(100 * k, None, 300 * k, True)], True),
        (4, "P1", 3, 3, Decimal("2.67"), Decimal("3.00"), Decimal("5.00"), True,
         "", [(100 * k, None, 400 * k, True)], False),
    ]  # fmt: skip
    ranking = response.context["ranking"]
    assert ranking.hidden == 0
    assert [row.threshold_above for row in ranking.rows] == [False, False, False, True]
    assert [[o.resource.code for o in row.budgets_end_above] for row in ranking.rows] == [
        [],
        [],
        ["jupiter-booster"],
        [],
    ]
    assert ranking.threshold_after_all is False
    assert ranking.threshold_rank == 4
    assert [
        (end.offer.resource.code, end.rank, end.page, end.requested) for end in ranking.budget_ends
    ] == [("jupiter-booster", 3, 1, Decimal(400_000))]
    assert (ranking.total, ranking.page, ranking.pages) == (4, 1, 1)


def test_the_page_draws_the_rows_the_budget_line_and_the_threshold(
    client, call, example, committee
):
    client.force_login(committee)
    response = client.get(url(call))
    html = response.content.decode()
    text = page_text(response)

    for expected in [
        "Ranks 1–4 of 4 proposals in competition, by score",
        "JUPITER Booster: budget 250,000 GPU-hours, requested in all 400,000 GPU-hours. "
        "The budget runs out at rank 3.",
        "Fundable threshold 3.00: from rank 4 on, the proposals score under it.",
        "1 JUP27-1-0002 P2 Project number 2 Pat Owner2 PE6 2 / 2 3.50 4.41 3.00 Reviewers disagree "
        "Feasible with changes 100,000 / 80,000 / 100,000",
        "2 JUP27-1-0003 P3 Project number 3 Pat Owner3 PE6 2 / 2 3.00 2.29 0.00 — "
        "100,000 / — / 200,000",
        "Budget line: JUPITER Booster (250,000 GPU-hours) runs out here",
        "3 JUP27-1-0004 P4 Project number 4 Pat Owner4 PE6 2 / 3 3.00 2.29 0.00 — "
        "100,000 / — / 300,000 over budget",
        "Fundable threshold 3.00 · the proposals below score under it",
        "4 JUP27-1-0001 P1 Project number 1 Pat Owner1 PE6 3 / 3 2.67 (below threshold) 3.00 "
        "5.00 Reviewers disagree",
        "Scores run from 0 to 5. “Reviewers disagree” marks a spread (highest minus lowest "
        "review score) above 1.67, a third of the scale.",
    ]:
        assert expected in text, expected
    # The threshold line comes after the budget line, right above P1.
    assert (
        text.index("runs out here")
        < text.index("JUP27-1-0004")
        < text.index("Fundable threshold 3.00 ·")
    )
    assert html.count('<th scope="col"') == 10
    assert html.count('<th scope="row"') == 4
    assert f'href="{reverse("proposal_reviews", args=[example["P2"].pk])}"' in html
    assert f'href="{reverse("call_ranking_csv", args=[call.pk])}"' in html
    # Reviewers are not named on the ranking.
    for name in ["Anna Generous", "Bert Harsh", "Cleo Middle", "Tess Technical"]:
        assert name not in html


def test_a_committee_member_in_conflict_does_not_see_that_row(
    client, call, example, committee, manager
):
    conflict(example["P2"], committee)
    client.force_login(committee)
    response = client.get(url(call))

    ranking = response.context["ranking"]
    # Ranked and summed among the rows shown: no gap in the ranks, P2's request not counted.
    assert [(r.rank, r.acronym, r.cells[0].cumulative) for r in ranking.rows] == [
        (1, "P3", Decimal(100_000)),
        (2, "P4", Decimal(200_000)),
        (3, "P1", Decimal(300_000)),
    ]
    assert ranking.hidden == 1
    html = response.content.decode()
    for secret in ["JUP27-1-0002", ">P2<", "Project number 2", "Pat Owner2", "80,000"]:
        assert secret not in html, secret
    assert "One proposal you are in conflict with, or on the team of, is left out" in page_text(
        response
    )

    client.force_login(manager)
    assert len(client.get(url(call)).context["ranking"].rows) == 4


def test_a_detected_conflict_not_yet_confirmed_hides_nothing(client, call, example, committee):
    conflict(example["P2"], committee, status=ConflictStatus.DETECTED)
    client.force_login(committee)
    assert client.get(url(call)).context["ranking"].hidden == 0


def test_a_committee_member_never_sees_a_proposal_of_their_own_team(
    client, call, example, committee
):
    add_member(example["P3"], committee)
    client.force_login(committee)
    response = client.get(url(call))
    assert [r.acronym for r in response.context["ranking"].rows] == ["P2", "P4", "P1"]


def test_drafts_and_withdrawn_proposals_are_not_ranked(client, call, committee, pi, coi):
    add_call_role(call, committee)
    kept = submitted_proposal(call, pi, "KEPT")
    gone = submitted_proposal(call, coi, "GONE")
    proposal_withdraw(proposal=gone, by=coi)
    make_proposal(call, make_user("drafter@uni.example"), acronym="DRAFT")
    client.force_login(committee)

    ranking = client.get(url(call)).context["ranking"]

    assert [row.proposal_id for row in ranking.rows] == [kept.pk]
    # Without a review it has no score: below the threshold, and the line is drawn above it.
    row = ranking.rows[0]
    assert (row.score, row.normalised, row.spread, row.fundable, row.threshold_above) == (
        None,
        None,
        None,
        False,
        True,
    )
    assert ranking.budgets_never_reached == list(ranking.offers)
    assert ranking.threshold_rank == 1


def test_every_proposal_above_the_threshold_draws_the_line_at_the_end(client, call, committee, pi):
    add_call_role(call, committee)
    proposal = submitted_proposal(call, pi, "TOP")
    in_review(call)
    scientific(proposal, make_user("r@review.example"), 5, 5)
    client.force_login(committee)

    response = client.get(url(call))

    assert response.context["ranking"].threshold_after_all is True
    assert "every proposal above scores at or above it" in page_text(response)
    assert "Every request fits within the budget." in page_text(response)


def test_managers_see_the_right_of_reply_button(client, call, example, manager):
    Call.objects.filter(pk=call.pk).update(right_of_reply=True)
    client.force_login(manager)
    html = client.get(url(call)).content.decode()
    assert f'action="{reverse("reply_window_open", args=[call.pk])}"' in html


def test_the_committee_does_not_get_the_manager_actions(client, call, example, committee):
    Call.objects.filter(pk=call.pk).update(right_of_reply=True)
    client.force_login(committee)
    html = client.get(url(call)).content.decode()
    assert reverse("reply_window_open", args=[call.pk]) not in html


@pytest.mark.parametrize("role", ["pi", "reviewer", "outsider", "other_committee"])
def test_others_get_403(client, call, example, pi, reviewer, outsider, role, manager):
    people = {"pi": example["P1"].pi, "reviewer": reviewer, "outsider": outsider}
    if role == "reviewer":
        add_call_role(call, reviewer, CallRoleKind.REVIEWER)
    if role == "other_committee":
        other = make_call("JUWELS 2027-1")
        person = make_user("board@other.example")
        add_call_role(other, person)
        people[role] = person
    client.force_login(people[role])
    assert client.get(url(call)).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, call):
    response = client.get(url(call))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url(call)}"


def test_no_such_call_is_404(client, committee):
    client.force_login(committee)
    assert client.get(reverse("call_ranking", args=[999_999])).status_code == 404


def test_post_is_405(client, call, example, committee):
    client.force_login(committee)
    assert client.post(url(call)).status_code == 405


def _queries(client, call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(call))
    assert response.status_code == 200
    return len(queries)


def test_constant_queries_for_one_and_three_proposals(client, call, committee):
    people = reviewers_of()
    add_call_role(call, committee)
    proposals = [
        submitted_proposal(call, make_user(f"q{n}@uni.example"), f"Q{n}") for n in range(3)
    ]
    in_review(call)
    conflict(proposals[2], committee)
    for proposal in proposals[:1]:
        scientific(proposal, people["A"], 4, 4)
        technical(proposal, people["T"], "feasible", 90_000)
        pending(proposal, people["late"])
    client.force_login(committee)
    # One proposal shown (two hidden)…
    # out of competition and back again: no service returns a withdrawn proposal
    Proposal.objects.filter(pk=proposals[1].pk).update(status="withdrawn")
    one = _queries(client, call)
    # …then three shown, each with reviews, a technical recommendation and a pending review.
    Proposal.objects.filter(pk=proposals[1].pk).update(status="submitted")
    Conflict.objects.all().delete()
    for proposal in proposals[1:]:
        scientific(proposal, people["A"], 3, 2)
        scientific(proposal, people["B"], 2, 2)
        technical(proposal, people["T"], "feasible", 70_000)
        pending(proposal, people["late"])
    three = _queries(client, call)
    assert len(client.get(url(call)).context["ranking"].rows) == 3
    assert one == three


def test_pages_of_rows_with_the_markers_where_they_fall(client, call, example, committee):
    client.force_login(committee)
    # Two rows a page: P2, P3 | P4, P1. The budget runs out above P4, the threshold above P1.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("proposals.review.selectors.ranking.RANKING_PAGE_SIZE", 2)
        first = client.get(url(call))
        second = client.get(url(call), {"page": "2"})
        beyond = client.get(url(call), {"page": "9"})
        junk = client.get(url(call), {"page": "two"})

    ranking = first.context["ranking"]
    assert [r.acronym for r in ranking.rows] == ["P2", "P3"]
    assert (ranking.page, ranking.pages, ranking.previous_page, ranking.next_page) == (
        1,
        2,
        None,
        2,
    )
    # The summary points to the page and row where each line falls.
    assert [(end.rank, end.page) for end in ranking.budget_ends] == [(3, 2)]
    assert (ranking.threshold_rank, ranking.threshold_page) == (4, 2)
    html = first.content.decode()
    assert 'href="?page=2#rank-3"' in html
    assert 'href="?page=2#rank-4"' in html
    assert 'href="?page=2" rel="next"' in html
    assert "runs out here" not in html
    text = page_text(first)
    assert "Ranks 1–2 of 4 proposals in competition, by score" in text
    assert "Page 1 of 2" in text

    ranking = second.context["ranking"]
    assert [(r.rank, r.acronym, r.cells[0].cumulative) for r in ranking.rows] == [
        (3, "P4", Decimal(300_000)),
        (4, "P1", Decimal(400_000)),
    ]
    assert [[o.resource.code for o in r.budgets_end_above] for r in ranking.rows] == [
        ["jupiter-booster"],
        [],
    ]
    assert [r.threshold_above for r in ranking.rows] == [False, True]
    html = second.content.decode()
    assert 'id="rank-3"' in html and 'id="rank-4"' in html
    assert 'href="?page=1" rel="prev"' in html
    assert "Ranks 3–4 of 4 proposals" in page_text(second)

    assert beyond.context["ranking"].page == 2
    assert junk.context["ranking"].page == 1


def test_the_csv_has_every_row_whatever_the_page_size(client, call, example, committee):
    client.force_login(committee)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("proposals.review.selectors.ranking.RANKING_PAGE_SIZE", 2)
        response = client.get(reverse("call_ranking_csv", args=[call.pk]))
    assert response.content.decode().count("JUP27-1-") == 4


def test_the_call_page_links_to_the_ranking_for_the_committee_and_managers_only(
    client, call, committee, manager, outsider
):
    add_call_role(call, committee)
    link = f'href="{url(call)}"'
    detail = reverse("call_detail", args=[call.pk])
    for person, shown in [(committee, True), (manager, True), (outsider, False), (None, False)]:
        client.logout()
        if person is not None:
            client.force_login(person)
        assert (link in client.get(detail).content.decode()) is shown


def test_each_call_s_dashboard_links_to_its_ranking(client, call, manager):
    client.force_login(manager)
    listing = client.get(reverse("manage_call_list")).content.decode()
    dashboard_url = reverse("manage_call_dashboard", args=[call.pk])
    assert f'href="{dashboard_url}"' in listing
    assert f'href="{url(call)}"' in client.get(dashboard_url).content.decode()
