"""The PI's answer to a published award (PRODUCT §6, §8): accept or decline, once; declining
forfeits the allocation's whole balance in the append-only ledger, frees the hours in the
call's budget and tells the call managers.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from allocations.enums import LedgerKind
from allocations.models import Allocation, LedgerEntry
from allocations.services.publishing import award_respond, decisions_publish
from notifications.models import OutboxMessage
from proposals.calls.models import AuditEntry
from proposals.decisions.enums import AwardResponse
from proposals.decisions.models import Decision
from proposals.decisions.selectors.amounts import awarded_totals
from tests.conftest import make_manager
from tests.proposals.decisions_factories import decide_all, worked_example
from tests.proposals.helpers import login_url_for
from tests.proposals.test_ranking import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(db, pi, coi, manager):
    example = worked_example(pi=pi, coi=coi)
    decide_all(example, manager)
    decisions_publish(call=example.call, by=manager)
    return example


def decision_of(example, acronym: str) -> Decision:
    return Decision.objects.get(proposal=example[acronym])


def balance(allocation: Allocation) -> Decimal:
    return allocation.ledger.aggregate(total=Sum("amount"))["total"]


def url(example, acronym: str = "ALPHA") -> str:
    return reverse("decision_respond", args=[example[acronym].pk])


# --- The service ----------------------------------------------------------------------------------


def test_the_pi_accepts(example, pi):
    decision = award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=True)

    decision.refresh_from_db()
    assert (decision.response, decision.responded_by) == (AwardResponse.ACCEPTED, pi)
    allocation = Allocation.objects.get(proposal=example["ALPHA"])
    assert list(allocation.ledger.values_list("kind", "amount")) == [("award", Decimal(400_000))]
    assert AuditEntry.objects.filter(action="award.accepted", subject_id=decision.pk).count() == 1
    assert not OutboxMessage.objects.filter(kind="award-declined").exists()


def test_the_pi_declines_and_the_whole_balance_is_forfeited(example, pi, manager):
    allocation = Allocation.objects.get(proposal=example["ALPHA"])
    # Some hours were used already: the forfeit is what is left.
    LedgerEntry.objects.create(
        allocation=allocation,
        resource=allocation.resources.get().resource,
        kind=LedgerKind.USAGE,
        amount=Decimal("-1250.5"),
        occurred_at=timezone.now() - timedelta(hours=1),
        source="jupiter:1001",
    )

    award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=False)

    assert list(
        allocation.ledger.order_by("id").values_list("kind", "amount", "reason", "author")
    ) == [
        ("award", Decimal(400_000), "Award of JUPITER 2027-1", manager.pk),
        ("usage", Decimal("-1250.5"), "", None),
        ("forfeit", Decimal("-398749.5"), "Award declined by the PI", pi.pk),
    ]
    assert balance(allocation) == 0
    decision = decision_of(example, "ALPHA")
    assert (decision.response, decision.responded_by) == (AwardResponse.DECLINED, pi)
    # The award lines stay for the record; the budget counts them as nothing.
    assert list(decision.lines.values_list("amount", flat=True)) == [Decimal(400_000)]
    assert awarded_totals(call=example.call) == {example.offer_id: Decimal(600_000)}
    forfeited = AuditEntry.objects.get(action="allocation.forfeited")
    assert forfeited.after == {
        "reason": "Award declined by the PI",
        "forfeited": {"jupiter-booster": "398749.5000"},
    }
    assert AuditEntry.objects.filter(action="award.declined", subject_id=decision.pk).count() == 1


def test_declining_tells_the_call_managers(example, pi, manager):
    other = make_manager("second@centre.example")

    award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=False)

    messages = set(
        OutboxMessage.objects.filter(kind="award-declined").values_list(
            "event", "recipient", "subject"
        )
    )
    event = f"award-declined:{example['ALPHA'].pk}"
    subject = (
        "[Allot] JUP27-1-0001 declined its award in JUPITER 2027-1: hours free for the waitlist"
    )
    assert messages == {(event, manager.email, subject), (event, other.email, subject)}


def test_an_award_is_answered_once(example, pi):
    award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=True)

    with pytest.raises(ValidationError) as refusal:
        award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=False)

    assert refusal.value.messages == ["This award was already answered: accepted."]
    assert decision_of(example, "ALPHA").response == AwardResponse.ACCEPTED
    assert not LedgerEntry.objects.filter(kind=LedgerKind.FORFEIT).exists()


def test_only_the_pi_answers(example, coi, manager):
    for person in (coi, manager):
        with pytest.raises(PermissionDenied):
            award_respond(decision=decision_of(example, "ALPHA"), by=person, accept=False)
    assert decision_of(example, "ALPHA").response == AwardResponse.PENDING


def test_only_an_award_is_answered(example):
    foxtrot = example["FOXTROT"]

    with pytest.raises(ValidationError) as refusal:
        award_respond(decision=decision_of(example, "FOXTROT"), by=foxtrot.pi, accept=True)

    assert refusal.value.messages == ["Only an award can be accepted or declined."]


def test_an_unpublished_award_is_not_answered(db, pi, manager):
    example = worked_example(pi=pi)
    decide_all(example, manager)

    with pytest.raises(ValidationError) as refusal:
        award_respond(decision=decision_of(example, "ALPHA"), by=pi, accept=True)

    assert refusal.value.messages == ["This decision is not published yet."]


# --- The view -------------------------------------------------------------------------------------


def test_accepting_from_the_page(client, example, pi):
    client.force_login(pi)

    response = client.post(url(example), {"action": "accept"})

    detail = reverse("decision_detail", args=[example["ALPHA"].pk])
    assert (response.status_code, response["Location"]) == (302, detail)
    text = page_text(client.get(detail))
    assert "You accepted the award." in text
    assert "Accepted by Paula Investigator" in text
    assert "Accept the award" not in text


def test_declining_from_the_page(client, example, pi):
    client.force_login(pi)

    response = client.post(url(example), {"action": "decline"}, follow=True)

    text = page_text(response)
    assert "You declined the award. Its hours go back to the call's budget." in text
    assert "Declined by Paula Investigator" in text
    assert balance(Allocation.objects.get(proposal=example["ALPHA"])) == 0


def test_a_second_answer_from_the_page_is_refused_with_the_reason(client, example, pi):
    client.force_login(pi)
    client.post(url(example), {"action": "accept"})

    response = client.post(url(example), {"action": "decline"}, follow=True)

    assert "This award was already answered: accepted." in page_text(response)
    assert decision_of(example, "ALPHA").response == AwardResponse.ACCEPTED


def test_who_may_answer(client, example, pi, coi, manager, outsider):
    target = url(example)

    def status(person, data=None) -> object:
        client.logout()
        if person is not None:
            client.force_login(person)
        response = client.post(target, data or {"action": "decline"})
        return response["Location"] if response.status_code == 302 else response.status_code

    assert {
        "co-investigator": status(coi),
        "manager": status(manager),
        "another applicant": status(example["BRAVO"].pi),
        "outsider": status(outsider),
        "anonymous": status(None),
        "pi, no action": status(pi, {"action": "maybe"}),
    } == {
        "co-investigator": 403,
        "manager": 403,
        "another applicant": 404,
        "outsider": 404,
        "anonymous": login_url_for(target),
        "pi, no action": 400,
    }
    client.force_login(pi)
    assert client.get(target).status_code == 405
    assert decision_of(example, "ALPHA").response == AwardResponse.PENDING


def test_no_answer_before_publication(client, db, pi, manager):
    example = worked_example(pi=pi)
    decide_all(example, manager)
    client.force_login(pi)

    assert client.post(url(example), {"action": "accept"}).status_code == 404
    assert decision_of(example, "ALPHA").response == AwardResponse.PENDING
