"""The reviews of one proposal as each reader may see them (PRODUCT §1.1, §5.4)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import ReviewVisibility
from proposals.calls.models import Call
from proposals.review.enums import ReviewState
from proposals.review.models import Reply, Review
from tests.conftest import make_user
from tests.proposal_factories import add_call_role, add_member
from tests.proposals.test_ranking import (
    conflict,
    in_review,
    page_text,
    pending,
    scientific,
    submitted_proposal,
    technical,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(db):
    from tests.factories import make_call

    return make_call(right_of_reply=True)


@pytest.fixture
def world(call, pi, coi, reviewer, committee, manager):
    """One proposal with Rita's (the ``reviewer`` persona's) review, Zora's and a technical
    review, each with its own marker text."""
    proposal = submitted_proposal(call, pi, "SPARSE")
    add_member(proposal, coi)
    in_review(call)
    add_call_role(call, committee)
    zora = make_user("zora@review.example", full_name="Zora Second")
    tess = make_user("tess@centre.example", full_name="Tess Technical")
    # Zora's review: (2 × 4 + 2) / 3 = 3.33; Rita's: (2 × 5 + 3) / 3 = 4.33.
    scientific(
        proposal,
        zora,
        4,
        2,
        comment="ZORA-TO-APPLICANT",
        confidential="ZORA-CONFIDENTIAL",
        recommendation="fund_reduced",
    )
    rita_review = scientific(
        proposal, reviewer, 5, 3, comment="RITA-TO-APPLICANT", confidential="RITA-CONFIDENTIAL"
    )
    technical(proposal, tess, "feasible", 60_000, notes="TESS-CONFIDENTIAL")
    return {"proposal": proposal, "zora": zora, "tess": tess, "rita_review": rita_review}


def url(proposal) -> str:
    return reverse("proposal_reviews", args=[proposal.pk])


def read(client, user, proposal):
    client.force_login(user)
    return client.get(url(proposal))


def labels(response) -> list[str]:
    return [review.label for review in response.context["reviews"].reviews]


def test_committee_reads_every_review_with_names_scores_comments_and_the_reply(
    client, world, committee, pi
):
    proposal = world["proposal"]
    Reply.objects.create(
        proposal=proposal, text="PI-REPLY-TEXT", submitted_by=pi, submitted_at=timezone.now()
    )
    response = read(client, committee, proposal)

    assert response.status_code == 200
    reviews = response.context["reviews"]
    assert reviews.audience == "committee"
    # In the order of assignment, scientific reviews first.
    assert labels(response) == ["Zora Second", "Rita Reviewer", "Tess Technical"]
    assert [(r.reviewer_email, r.confidential_comment) for r in reviews.reviews] == [
        ("zora@review.example", "ZORA-CONFIDENTIAL"),
        ("reviewer@inst.example", "RITA-CONFIDENTIAL"),
        ("tess@centre.example", "TESS-CONFIDENTIAL"),
    ]
    text = page_text(response)
    for expected in [
        "Score 3.83",  # (4.33 + 3.33) / 2
        "Spread 1.00",
        "Rita Reviewer · Scientific review reviewer@inst.example",
        "Scientific excellence 5 (of 0–5) Feasibility 3 (of 0–5) Weighted score 4.33",
        "Comment to the applicant RITA-TO-APPLICANT",
        "Confidential comment to the committee ZORA-CONFIDENTIAL",
        "Recommendation Fund with a reduced amount",
        "Tess Technical · Technical review tess@centre.example",
        "Technical verdict Feasible Recommended on JUPITER Booster 60,000 GPU-hours",
        "TESS-CONFIDENTIAL",
        "The applicant's reply",
        "PI-REPLY-TEXT",
    ]:
        assert expected in text, expected


def test_committee_sees_who_has_not_submitted_yet(client, world, committee):
    pending(world["proposal"], make_user("late@review.example", full_name="Luis Late"))
    response = read(client, committee, world["proposal"])
    assert "Not submitted yet Luis Late · Scientific review · Accepted" in page_text(response)


def test_managers_read_everything_too(client, world, manager):
    response = read(client, manager, world["proposal"])
    assert response.context["reviews"].audience == "committee"
    assert "ZORA-CONFIDENTIAL" in response.content.decode()


def test_committee_member_in_conflict_gets_404(client, world, committee):
    conflict(world["proposal"], committee)
    assert read(client, committee, world["proposal"]).status_code == 404


@pytest.mark.parametrize("setting", [ReviewVisibility.ALWAYS, ReviewVisibility.AFTER_OWN])
def test_reviewer_sees_the_others_anonymised_without_confidential_comments(
    client, world, reviewer, setting
):
    Call.objects.filter(pk=world["proposal"].call_id).update(review_visibility=setting)
    response = read(client, reviewer, world["proposal"])

    assert response.status_code == 200
    reviews = response.context["reviews"]
    assert reviews.audience == "reviewer"
    assert labels(response) == ["Reviewer 1", "Your review", "Technical review"]
    assert [r.confidential_comment for r in reviews.reviews] == [None, "RITA-CONFIDENTIAL", None]
    html = response.content.decode()
    for secret in [
        "Zora Second",
        "zora@review.example",
        "ZORA-CONFIDENTIAL",
        "Tess Technical",
        "tess@centre.example",
        "TESS-CONFIDENTIAL",
    ]:
        assert secret not in html, secret
    text = page_text(response)
    assert "Reviewer 1 · Scientific review" in text
    assert "Weighted score 3.33" in text
    assert "ZORA-TO-APPLICANT" in text


def test_reviewer_before_their_own_review_under_after_own_gets_403(client, world, reviewer):
    Review.objects.filter(pk=world["rita_review"].pk).update(
        state=ReviewState.ACCEPTED, submitted_at=None
    )
    response = read(client, reviewer, world["proposal"])

    assert response.status_code == 403
    assert "you see the other reviews once you have submitted your own" in page_text(response)
    assert "ZORA" not in response.content.decode()


def test_reviewer_never_sees_other_reviews_when_the_call_says_never(client, world, reviewer):
    Call.objects.filter(pk=world["proposal"].call_id).update(
        review_visibility=ReviewVisibility.NEVER
    )
    response = read(client, reviewer, world["proposal"])

    assert response.status_code == 403
    assert "In this call reviewers do not see each other's reviews." in page_text(response)
    assert "ZORA" not in response.content.decode()


@pytest.mark.parametrize("role", ["pi", "coi"])
def test_the_team_sees_nothing_before_the_right_of_reply(client, world, pi, coi, role):
    response = read(client, {"pi": pi, "coi": coi}[role], world["proposal"])

    assert response.status_code == 403
    assert (
        "Reviews are shared when the right of reply opens or the decisions are published."
        in page_text(response)
    )
    assert "TO-APPLICANT" not in response.content.decode()


def _open_reply(call_id: int) -> None:
    now = timezone.now()
    Call.objects.filter(pk=call_id).update(
        reply_opened_at=now - timedelta(hours=1),
        reply_opens_at=now - timedelta(hours=1),
        reply_closes_at=now + timedelta(days=14),
    )


SECRETS = [
    "Rita Reviewer",
    "reviewer@inst.example",
    "Zora Second",
    "zora@review.example",
    "Tess Technical",
    "tess@centre.example",
    "CONFIDENTIAL",
]


@pytest.mark.parametrize("role", ["pi", "coi"])
def test_during_the_right_of_reply_the_team_reads_the_comments_only(client, world, pi, coi, role):
    _open_reply(world["proposal"].call_id)
    response = read(client, {"pi": pi, "coi": coi}[role], world["proposal"])

    assert response.status_code == 200
    assert labels(response) == ["Reviewer 1", "Reviewer 2"]
    html = response.content.decode()
    for secret in [*SECRETS, "Scientific excellence", "Weighted score"]:
        assert secret not in html, secret
    text = page_text(response)
    # the scores, read as numbers in what the page shows (a <time datetime="…04.336765Z">
    # attribute of the page's own clock holds "4.33" by chance)
    for score in ("4.33", "3.33", "3.83"):
        assert not re.search(rf"(?<![\d.]){re.escape(score)}(?!\d)", text), score
    assert (
        "Reviewer 1 Comment to the applicant ZORA-TO-APPLICANT "
        "Reviewer 2 Comment to the applicant RITA-TO-APPLICANT"
    ) in text
    assert "Scores are shown when the decisions are published." in text


def test_after_the_window_closes_the_comments_stay_readable(client, world, pi):
    now = timezone.now()
    Call.objects.filter(pk=world["proposal"].call_id).update(
        reply_opened_at=now - timedelta(days=15),
        reply_opens_at=now - timedelta(days=15),
        reply_closes_at=now - timedelta(days=1),
    )
    assert labels(read(client, pi, world["proposal"])) == ["Reviewer 1", "Reviewer 2"]


def test_after_publication_the_team_reads_the_scores_but_never_names(client, world, pi):
    Call.objects.filter(pk=world["proposal"].call_id).update(decisions_published_at=timezone.now())
    response = read(client, pi, world["proposal"])

    assert response.status_code == 200
    html = response.content.decode()
    for secret in SECRETS:
        assert secret not in html, secret
    text = page_text(response)
    assert (
        "Reviewer 1 Criterion Score Scientific excellence 4 (of 0–5) Feasibility 2 (of 0–5) "
        "Weighted score 3.33 Comment to the applicant ZORA-TO-APPLICANT"
    ) in text
    assert "Weighted score 4.33" in text


def test_the_team_reads_its_reply_there(client, world, pi):
    _open_reply(world["proposal"].call_id)
    Reply.objects.create(
        proposal=world["proposal"],
        text="PI-REPLY-TEXT",
        submitted_by=pi,
        submitted_at=timezone.now(),
    )
    text = page_text(read(client, pi, world["proposal"]))
    assert "The applicant's reply" in text
    assert "PI-REPLY-TEXT" in text


def test_a_team_member_who_also_sits_on_the_committee_gets_the_applicants_view(
    client, world, committee
):
    add_member(world["proposal"], committee)
    response = read(client, committee, world["proposal"])
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["outsider", "unassigned_reviewer"])
def test_people_who_may_not_see_the_proposal_get_404(client, world, outsider, who):
    person = outsider if who == "outsider" else make_user("other@review.example")
    assert read(client, person, world["proposal"]).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(url(world["proposal"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_post_is_405(client, world, committee):
    client.force_login(committee)
    assert client.post(url(world["proposal"])).status_code == 405


def test_constant_queries_for_one_and_three_reviews(client, call, pi, committee):
    proposal = submitted_proposal(call, pi, "FEW")
    in_review(call)
    add_call_role(call, committee)
    scientific(proposal, make_user("one@review.example"), 3, 3)
    client.force_login(committee)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(proposal)).status_code == 200
    scientific(proposal, make_user("two@review.example"), 4, 3)
    technical(proposal, make_user("tech@centre.example"), "feasible", 1000)
    pending(proposal, make_user("three@review.example"))
    with CaptureQueriesContext(connection) as three:
        assert client.get(url(proposal)).status_code == 200
    assert len(one) == len(three)
