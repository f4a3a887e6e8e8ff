"""Publishing a call's decisions (PRODUCT §6, §7): every decision at once, an allocation for
every award, the decision emails to each team; refused while a proposal is undecided; running
it twice changes nothing; the page's confirm step and who may publish.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from allocations.models import Allocation, AllocationMember, AllocationResource, LedgerEntry
from allocations.services.publishing import decisions_publish
from notifications.models import OutboxMessage
from proposals.calls.models import AuditEntry, Call
from proposals.decisions.models import Decision
from proposals.decisions.services.publishing import MissingDecisions
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_withdraw
from tests.conftest import make_manager
from tests.proposals.decisions_factories import (
    SUGGESTED,
    decide,
    decide_all,
    on_committee,
    worked_example,
)
from tests.proposals.helpers import login_url_for, second_factor_url
from tests.proposals.test_ranking import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(db, pi, coi):
    return worked_example(pi=pi, coi=coi)


@pytest.fixture
def decided(example, manager):
    decide_all(example, manager)
    return example


def counts() -> dict[str, int]:
    return {
        "allocations": Allocation.objects.count(),
        "members": AllocationMember.objects.count(),
        "resources": AllocationResource.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "emails": OutboxMessage.objects.filter(kind="decision-published").count(),
        "audit": AuditEntry.objects.count(),
    }


def url(example) -> str:
    return reverse("decisions_publish", args=[example.call.pk])


# --- The service ----------------------------------------------------------------------------------


def test_publish_is_refused_while_a_proposal_is_undecided(example, manager):
    decide(example, manager, {key: value for key, value in SUGGESTED.items() if key != "DELTA"})
    before = counts()

    with pytest.raises(MissingDecisions) as refusal:
        decisions_publish(call=example.call, by=manager)

    assert refusal.value.messages == [
        "Every proposal in competition needs a decision first. Still undecided: JUP27-1-0004."
    ]
    assert refusal.value.references == ["JUP27-1-0004"]
    assert counts() == before
    example.call.refresh_from_db()
    assert example.call.decisions_published_at is None
    assert set(Proposal.objects.values_list("status", flat=True)) == {"submitted"}
    assert Decision.objects.filter(published_at__isnull=False).count() == 0


def test_publish_sets_every_decision_and_status(decided, manager):
    result = decisions_publish(call=decided.call, by=manager)

    decided.call.refresh_from_db()
    assert decided.call.decisions_published_at == result.published_at
    assert (result.already, result.decisions, result.allocations, result.emails) == (
        False,
        6,
        3,
        7,
    )
    assert dict(Proposal.objects.values_list("acronym", "status")) == {
        "ALPHA": "awarded",
        "BRAVO": "awarded",
        "CHARLIE": "partially_awarded",
        "DELTA": "waitlisted",
        "ECHO": "waitlisted",
        "FOXTROT": "rejected",
    }
    assert set(Decision.objects.values_list("published_at", flat=True)) == {result.published_at}
    entry = AuditEntry.objects.get(action="decisions.published")
    assert (entry.subject_type, entry.subject_id, entry.actor, entry.call_id) == (
        "call",
        decided.call.pk,
        manager,
        decided.call.pk,
    )
    assert entry.after == {
        "decisions_published_at": result.published_at.isoformat(),
        "outcomes": {"awarded": 2, "partially_awarded": 1, "waitlisted": 2, "rejected": 1},
        "reviews_closed": [],
    }


def test_publish_creates_an_allocation_for_every_award(decided, manager, pi, coi):
    decisions_publish(call=decided.call, by=manager)

    allocations = {
        a.proposal.acronym: a for a in Allocation.objects.select_related("proposal", "pi")
    }
    assert sorted(allocations) == ["ALPHA", "BRAVO", "CHARLIE"]
    alpha = allocations["ALPHA"]
    # The call's period (make_call: the next 1 May after its deadline, for a year).
    start = decided.call.period_start
    assert (start.month, start.day) == (5, 1)
    assert (alpha.account, alpha.pi, alpha.start, alpha.end) == (
        "alpha-jup27-1",
        pi,
        start,
        date(start.year + 1, 4, 30),
    )
    assert set(alpha.members.values_list("user__email", flat=True)) == {pi.email, coi.email}
    ledger = list(
        LedgerEntry.objects.order_by("allocation__account").values_list(
            "allocation__account", "kind", "amount", "reason"
        )
    )
    assert ledger == [
        ("alpha-jup27-1", "award", Decimal(400_000), "Award of JUPITER 2027-1"),
        ("bravo-jup27-1", "award", Decimal(300_000), "Award of JUPITER 2027-1"),
        ("charlie-jup27-1", "award", Decimal(300_000), "Award of JUPITER 2027-1"),
    ]


def test_publish_emails_each_team_its_decision(decided, manager, pi, coi):
    decisions_publish(call=decided.call, by=manager)

    sent = set(
        OutboxMessage.objects.exclude(kind="proposal-submitted")
        .values_list("kind", "event", "recipient", "subject")
        .order_by()
    )
    pk = {acronym: proposal.pk for acronym, proposal in decided.proposals.items()}
    assert sent == {
        (
            "decision-published",
            f"decision-published:{pk['ALPHA']}",
            pi.email,
            "[Allot] Decision on JUP27-1-0001: Awarded",
        ),
        (
            "decision-published",
            f"decision-published:{pk['ALPHA']}",
            coi.email,
            "[Allot] Decision on JUP27-1-0001: Awarded",
        ),
        (
            "decision-published",
            f"decision-published:{pk['BRAVO']}",
            "pi-bravo@uni.example",
            "[Allot] Decision on JUP27-1-0002: Awarded",
        ),
        (
            "decision-published",
            f"decision-published:{pk['CHARLIE']}",
            "pi-charlie@uni.example",
            "[Allot] Decision on JUP27-1-0003: Partially awarded",
        ),
        (
            "decision-published",
            f"decision-published:{pk['DELTA']}",
            "pi-delta@uni.example",
            "[Allot] Decision on JUP27-1-0004: Waitlisted",
        ),
        (
            "decision-published",
            f"decision-published:{pk['ECHO']}",
            "pi-echo@uni.example",
            "[Allot] Decision on JUP27-1-0005: Waitlisted",
        ),
        (
            "decision-published",
            f"decision-published:{pk['FOXTROT']}",
            "pi-foxtrot@uni.example",
            "[Allot] Decision on JUP27-1-0006: Rejected",
        ),
    }


def test_the_email_holds_the_amounts_the_message_and_the_link(decided, manager, pi):
    decisions_publish(call=decided.call, by=manager)

    body = OutboxMessage.objects.get(recipient=pi.email, kind="decision-published").body_text
    assert body == (
        "Hello Paula Investigator,\n\n"
        "The committee of the call JUPITER 2027-1 has decided on your proposal JUP27-1-0001 "
        "ALPHA.\n\n"
        "Decision: Awarded\n\n"
        "Awarded:\n"
        "- JUPITER Booster: 400,000 GPU-hours\n\n"
        "Message from the committee:\n"
        "Congratulations: a strong proposal.\n\n"
        "The principal investigator accepts or declines the award on the decision page.\n\n"
        "The decision and the reviewers' comments: "
        f"http://127.0.0.1:8000/proposals/{decided['ALPHA'].pk}/decision/\n\n"
        "-- \nAllot\n\n"
    )
    rejected = OutboxMessage.objects.get(
        recipient="pi-foxtrot@uni.example", kind="decision-published"
    ).body_text
    assert "Awarded:" not in rejected
    assert "accepts or declines" not in rejected


def test_publishing_twice_changes_nothing(decided, manager):
    first = decisions_publish(call=decided.call, by=manager)
    before = counts()
    statuses = dict(Proposal.objects.values_list("acronym", "status"))

    second = decisions_publish(call=decided.call, by=manager)

    assert (second.already, second.published_at) == (True, first.published_at)
    assert counts() == before
    assert before == {
        "allocations": 3,
        "members": 4,
        "resources": 3,
        "ledger": 3,
        "emails": 7,
        # 6 proposals submitted, 6 decisions saved, published once, 3 allocations created.
        "audit": 16,
    }
    assert dict(Proposal.objects.values_list("acronym", "status")) == statuses
    decided.call.refresh_from_db()
    assert decided.call.decisions_published_at == first.published_at


def test_only_managers_publish(decided, committee):
    with pytest.raises(PermissionDenied):
        decisions_publish(call=decided.call, by=committee)
    assert Call.objects.get(pk=decided.call.pk).decisions_published_at is None


def test_a_call_with_every_decision_but_a_withdrawn_proposal_publishes(example, manager):
    proposal_withdraw(proposal=example["DELTA"], by=example["DELTA"].pi)
    decide(example, manager, {key: value for key, value in SUGGESTED.items() if key != "DELTA"})

    result = decisions_publish(call=example.call, by=manager)

    assert result.decisions == 5
    assert Proposal.objects.get(acronym="DELTA").status == "withdrawn"


def test_publishing_before_the_deadline_is_refused_and_says_why(manager_client, decided):
    Call.objects.filter(pk=decided.call.pk).update(
        closes_at=timezone.now() + timedelta(hours=1),
        review_due_at=timezone.now() + timedelta(days=1),
    )

    response = manager_client.post(url(decided), {"confirm": "yes"}, follow=True)

    assert "The call is still open: decisions can be published after its deadline." in page_text(
        response
    )
    assert Call.objects.get(pk=decided.call.pk).decisions_published_at is None
    assert Allocation.objects.count() == 0


def test_publishing_before_the_review_job_ran_still_decides_every_proposal(decided, manager):
    # The deadline has passed but the periodic job has not yet put them under review.
    statuses = set(Proposal.objects.filter(call=decided.call).values_list("status", flat=True))
    assert statuses == {"submitted"}

    decisions_publish(call=decided.call, by=manager)

    assert sorted(Proposal.objects.filter(call=decided.call).values_list("status", flat=True)) == [
        "awarded",
        "awarded",
        "partially_awarded",
        "rejected",
        "waitlisted",
        "waitlisted",
    ]


# --- The view -------------------------------------------------------------------------------------


def test_publishing_asks_for_confirmation_first(manager_client, decided):
    response = manager_client.post(url(decided))

    assert response.status_code == 200
    text = page_text(response)
    assert "Publish the decisions of JUPITER 2027-1?" in text
    assert "2 awarded 1 partially awarded 2 waitlisted 1 rejected" in text
    assert (
        "This cannot be undone. Reason for publishing now Needed when the review due date is "
        "still ahead or reviews are missing; kept in the audit trail. Yes, publish the "
        "decisions No, not yet"
    ) in text
    assert Call.objects.get(pk=decided.call.pk).decisions_published_at is None
    assert OutboxMessage.objects.filter(kind="decision-published").count() == 0


def test_the_confirm_step_names_the_undecided_proposals(manager_client, example, manager):
    decide(example, manager, {"ALPHA": SUGGESTED["ALPHA"]})

    text = page_text(manager_client.post(url(example)))

    assert (
        "5 proposals in competition have no decision yet: JUP27-1-0002, JUP27-1-0003, "
        "JUP27-1-0004, JUP27-1-0005, JUP27-1-0006. Publishing is refused until every proposal "
        "has one." in text
    )


def test_confirmed_publishing_publishes_and_says_what_it_did(manager_client, decided):
    response = manager_client.post(url(decided), {"confirm": "yes"})

    decisions = reverse("manage_decisions", args=[decided.call.pk])
    assert (response.status_code, response["Location"]) == (302, decisions)
    text = page_text(manager_client.get(decisions))
    assert (
        "6 decisions are published. 3 allocations were created. 7 emails are on their way." in text
    )
    assert "Published on" in text
    assert 'name="outcome-' not in manager_client.get(decisions).content.decode()


def test_a_refused_publication_says_why(manager_client, example, manager):
    decide(example, manager, {key: value for key, value in SUGGESTED.items() if key != "ECHO"})

    response = manager_client.post(url(example), {"confirm": "yes"}, follow=True)

    assert (
        "Every proposal in competition needs a decision first. Still undecided: JUP27-1-0005."
        in page_text(response)
    )
    assert Call.objects.get(pk=example.call.pk).decisions_published_at is None


def test_publishing_again_from_the_page_says_it_is_done(manager_client, decided, manager):
    decisions_publish(call=decided.call, by=manager)

    for data in ({}, {"confirm": "yes"}):
        response = manager_client.post(url(decided), data, follow=True)
        assert "already published" in page_text(response)
    assert OutboxMessage.objects.filter(kind="decision-published").count() == 7


def test_who_may_publish(client, decided, pi, committee):
    on_committee(decided.call, committee)
    target = url(decided)

    response = client.post(target, {"confirm": "yes"})
    assert (response.status_code, response["Location"]) == (302, login_url_for(target))
    for person in (pi, committee):
        client.force_login(person)
        assert client.post(target, {"confirm": "yes"}).status_code == 403
    assert client.get(target).status_code == 405
    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))
    response = client.post(target, {"confirm": "yes"})
    assert (response.status_code, response["Location"]) == (
        302,
        second_factor_url("mfa_activate_totp"),
    )
    assert Call.objects.get(pk=decided.call.pk).decisions_published_at is None


def test_publishing_an_unknown_call_is_404(manager_client, decided):
    assert manager_client.post(reverse("decisions_publish", args=[999])).status_code == 404


def test_outcomes_as_published(decided, manager):
    decisions_publish(call=decided.call, by=manager)

    assert dict(Decision.objects.values_list("proposal__acronym", "outcome")) == {
        key: value[0] for key, value in SUGGESTED.items()
    }
