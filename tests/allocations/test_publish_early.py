"""Decisions wait for the review (PRODUCT §6 as amended): publishing with reviews missing or
before the review due date needs a reason, kept in the audit trail; publishing closes every
pending review invitation and draft; "Suggest awards" funds no proposal with reviews missing
and says which. Over HTTP."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import AuditEntry, Call
from proposals.decisions.models import Decision
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import review_accept
from tests.conftest import make_user
from tests.proposals.decisions_factories import EXAMPLE, decide_all, worked_example
from tests.proposals.reviewing_factories import assign
from tests.proposals.test_decisions_page import field_value, post_data
from tests.proposals.test_ranking import page_text, scientific

pytestmark = pytest.mark.django_db

REASON = "The committee met on 3 December; the second reviewer withdrew."


@pytest.fixture
def example(pi, coi):
    return worked_example(pi=pi, coi=coi)


@pytest.fixture
def short_of_reviews(example, manager):
    """Every proposal has 1 of the 2 reviews the call asks for, and they are due tomorrow."""
    call = example.call
    Call.objects.filter(pk=call.pk).update(
        reviewers_per_proposal=2, review_due_at=call.closes_at + timedelta(days=1)
    )
    decide_all(example, manager)
    return example


def publish_url(example) -> str:
    return reverse("decisions_publish", args=[example.call.pk])


def published(example) -> bool:
    return Call.objects.get(pk=example.call.pk).decisions_published_at is not None


def test_publishing_early_without_a_reason_is_refused_beside_the_field(
    client, manager, short_of_reviews
):
    client.force_login(manager)

    response = client.post(publish_url(short_of_reviews), {"confirm": "yes", "reason": " "})

    assert response.status_code == 400
    text = page_text(response)
    assert "The reviews are due on" in text
    assert (
        "Reviews are missing: JUP27-1-0001 (1 of 2 reviews), JUP27-1-0002 (1 of 2 reviews), "
        "JUP27-1-0003 (1 of 2 reviews), JUP27-1-0004 (1 of 2 reviews), JUP27-1-0005 (1 of 2 "
        "reviews) and JUP27-1-0006 (1 of 2 reviews)."
    ) in text
    assert 'id="id_reason_error"' in response.content.decode()
    assert not published(short_of_reviews)


def test_publishing_early_with_a_reason_keeps_it_in_the_audit_trail(
    client, manager, short_of_reviews
):
    client.force_login(manager)

    client.post(publish_url(short_of_reviews), {"confirm": "yes", "reason": REASON})

    assert published(short_of_reviews)
    entry = AuditEntry.objects.get(action="decisions.published")
    assert entry.actor == manager
    assert entry.after["early_reason"] == REASON
    assert entry.after["before_review_due"] is True
    assert entry.after["reviews_missing"] == {f"JUP27-1-000{n}": "1/2" for n in range(1, 7)}


def test_publishing_closes_pending_invitations_and_drafts(client, manager, example, reviewer):
    decide_all(example, manager)
    invited = assign(example["ALPHA"], reviewer)
    other = make_user("late@review.example", full_name="Lou Late")
    draft = assign(example["FOXTROT"], other)
    review_accept(review=draft, by=other)
    client.force_login(manager)

    client.post(publish_url(example), {"confirm": "yes"})

    assert published(example)
    assert {
        (r.reviewer.email, r.state)
        for r in Review.objects.filter(pk__in=[invited.pk, draft.pk]).select_related("reviewer")
    } == {
        ("reviewer@inst.example", ReviewState.CLOSED),
        ("late@review.example", ReviewState.CLOSED),
    }
    assert AuditEntry.objects.get(action="decisions.published").after["reviews_closed"] == [
        invited.pk,
        draft.pk,
    ]
    client.force_login(reviewer)
    assert "Closed: the decisions were published" in page_text(client.get(reverse("my_reviews")))


def test_suggest_awards_funds_no_proposal_with_reviews_missing_and_says_which(
    client, manager, example
):
    # A second review for every proposal but BRAVO (1 of 2), with the same scores.
    Call.objects.filter(pk=example.call.pk).update(reviewers_per_proposal=2)
    second = make_user("sam@review.example", full_name="Sam Second")
    for acronym, excellence, feasibility, _requested, _recommended in EXAMPLE:
        if acronym != "BRAVO":
            scientific(example[acronym], second, excellence, feasibility, comment="Fine.")
    client.force_login(manager)

    response = client.post(reverse("decisions_suggest", args=[example.call.pk]))

    assert response.status_code == 200
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Reviews are missing, so the suggestion funds none of these and waitlists those above "
        "the threshold: JUP27-1-0002 (1 of 2 reviews)."
    ]
    offer = example.offer_id
    shown = {
        acronym: (
            field_value(response, f"outcome-{proposal.pk}"),
            field_value(response, f"amount-{proposal.pk}-{offer}"),
        )
        for acronym, proposal in example.proposals.items()
    }
    # BRAVO (second in the ranking) takes none of the budget, which goes down the ranking.
    assert shown == {
        "ALPHA": ("awarded", "400000.00"),
        "BRAVO": ("waitlisted", "300000.00"),
        "CHARLIE": ("awarded", "400000.00"),
        "DELTA": ("awarded", "100000.00"),
        "ECHO": ("partially_awarded", "100000.00"),
        "FOXTROT": ("rejected", "100000.00"),
    }


# --- Decisions and the right of reply wait for the call's deadline ---------------------------


def reopen(example) -> None:
    """The deadline moved to an hour from now: the call is open again."""
    now = timezone.now()
    Call.objects.filter(pk=example.call.pk).update(
        closes_at=now + timedelta(hours=1), review_due_at=now + timedelta(days=1)
    )
    example.call.refresh_from_db()


def test_decisions_are_not_saved_before_the_deadline(client, manager, example):
    reopen(example)
    client.force_login(manager)
    data = post_data(example, {"ALPHA": ("awarded", "400000.00", "")})

    response = client.post(reverse("manage_decisions", args=[example.call.pk]), data)

    assert response.status_code == 200
    assert "The call is still open: decisions wait for its deadline" in page_text(response)
    assert Decision.objects.count() == 0


def test_the_right_of_reply_does_not_open_before_the_deadline(client, manager, example):
    Call.objects.filter(pk=example.call.pk).update(right_of_reply=True)
    reopen(example)
    client.force_login(manager)

    response = client.post(reverse("reply_window_open", args=[example.call.pk]))

    assert [str(m) for m in get_messages(response.wsgi_request)][-1].startswith(
        "The call is still open: the right of reply opens after its deadline,"
    )
    assert Call.objects.get(pk=example.call.pk).reply_opened_at is None
