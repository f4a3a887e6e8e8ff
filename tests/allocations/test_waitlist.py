"""Promoting a waitlisted proposal when an awardee declines (PRODUCT §6): within the hours
the budget has left, with the same lock and check as saving; the allocation and the team's
email; the page's declined awards and waitlist; who may promote.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from allocations.models import Allocation, LedgerEntry
from allocations.services.publishing import award_respond, decisions_publish, waitlist_promote
from notifications.models import OutboxMessage
from proposals.calls.models import AuditEntry
from proposals.decisions.enums import AwardResponse, DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.services.budget import OverBudget
from proposals.submission.models import Proposal
from tests.conftest import make_manager
from tests.proposals.decisions_factories import decide_all, on_committee, worked_example
from tests.proposals.helpers import login_url_for, second_factor_url
from tests.proposals.test_ranking import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(db, manager):
    example = worked_example()
    decide_all(example, manager)
    decisions_publish(call=example.call, by=manager)
    return example


@pytest.fixture
def freed(example):
    """ALPHA's PI declines: 400,000 GPU-hours are free."""
    alpha = example["ALPHA"]
    award_respond(decision=alpha.decision, by=alpha.pi, accept=False)
    return example


def promote(example, acronym: str, by, amount: int | None = None):
    amounts = {} if amount is None else {example.offer_id: Decimal(amount)}
    proposal = Proposal.objects.get(pk=example[acronym].pk)
    return waitlist_promote(call=example.call, proposal=proposal, by=by, amounts=amounts)


def url(example, acronym: str) -> str:
    return reverse("waitlist_promote", args=[example.call.pk, example[acronym].pk])


def field(example, acronym: str) -> str:
    return f"promote-{example[acronym].pk}-amount-{example.offer_id}"


# --- The service ----------------------------------------------------------------------------------


def test_promotion_within_the_freed_budget(freed, manager):
    delta = freed["DELTA"]

    allocation = promote(freed, "DELTA", manager)

    decision = Decision.objects.get(proposal=delta)
    assert (decision.outcome, decision.response, decision.decided_by) == (
        DecisionOutcome.AWARDED,
        AwardResponse.PENDING,
        manager,
    )
    assert list(decision.lines.values_list("amount", flat=True)) == [Decimal(100_000)]
    assert Proposal.objects.get(pk=delta.pk).status == "awarded"
    assert allocation.account == "delta-jup27-1"
    assert list(allocation.ledger.values_list("kind", "amount")) == [("award", Decimal(100_000))]
    audit = AuditEntry.objects.get(action="decision.promoted")
    assert audit.before == {"outcome": "waitlisted", "amounts": {}, "message": ""}
    assert {key: audit.after[key] for key in ("outcome", "amounts")} == {
        "outcome": "awarded",
        "amounts": {"jupiter-booster": "100000.00"},
    }


def test_the_promoted_team_is_emailed(freed, manager):
    promote(freed, "DELTA", manager)

    message = OutboxMessage.objects.get(event__startswith="decision-updated:")
    assert (message.kind, message.event, message.recipient, message.subject) == (
        "decision-published",
        f"decision-updated:{freed['DELTA'].pk}:1",
        "pi-delta@uni.example",
        "[Allot] Decision on JUP27-1-0004: Awarded",
    )
    assert "was on the waitlist. Hours have become free" in message.body_text
    assert "- JUPITER Booster: 100,000 GPU-hours" in message.body_text


def test_less_than_the_default_is_a_partial_award(freed, manager):
    promote(freed, "ECHO", manager, 150_000)

    decision = Decision.objects.get(proposal=freed["ECHO"])
    assert decision.outcome == DecisionOutcome.PARTIALLY_AWARDED
    assert list(decision.lines.values_list("amount", flat=True)) == [Decimal(150_000)]


def test_promotion_beyond_what_is_free_is_refused_and_nothing_changes(freed, manager):
    promote(freed, "DELTA", manager)  # 300,000 left

    with pytest.raises(OverBudget) as refusal:
        promote(freed, "ECHO", manager, 300_001)

    assert refusal.value.messages == [
        "JUPITER Booster: the awards add up to 1,000,001 GPU-hours, more than the budget of "
        "1,000,000 GPU-hours. Nothing was saved."
    ]
    echo = Decision.objects.get(proposal=freed["ECHO"])
    assert echo.outcome == DecisionOutcome.WAITLISTED
    assert not AwardLine.objects.filter(decision=echo).exists()
    assert not Allocation.objects.filter(proposal=freed["ECHO"]).exists()
    assert Proposal.objects.get(pk=freed["ECHO"].pk).status == "waitlisted"


def test_without_a_decline_there_is_nothing_to_promote_into(example, manager):
    with pytest.raises(OverBudget):
        promote(example, "DELTA", manager)
    assert Decision.objects.get(proposal=example["DELTA"]).outcome == DecisionOutcome.WAITLISTED


def test_only_a_waitlisted_proposal_is_promoted(freed, manager):
    with pytest.raises(ValidationError) as refusal:
        promote(freed, "FOXTROT", manager)

    assert refusal.value.messages == ["JUP27-1-0006 is not on the waitlist."]


def test_promotion_waits_for_publication(db, manager):
    example = worked_example()
    decide_all(example, manager)

    with pytest.raises(ValidationError) as refusal:
        promote(example, "DELTA", manager)

    assert refusal.value.messages == [
        "The decisions are not published yet: change the decision on the page."
    ]


def test_only_managers_promote(freed, committee):
    with pytest.raises(PermissionDenied):
        promote(freed, "DELTA", committee)


def test_the_promoted_pi_can_answer_in_turn(freed, manager):
    promote(freed, "DELTA", manager)
    delta = Proposal.objects.get(pk=freed["DELTA"].pk)

    award_respond(decision=delta.decision, by=delta.pi, accept=False)

    allocation = Allocation.objects.get(proposal=delta)
    assert list(allocation.ledger.order_by("id").values_list("kind", "amount")) == [
        ("award", Decimal(100_000)),
        ("forfeit", Decimal(-100_000)),
    ]


# --- The page -------------------------------------------------------------------------------------


def test_the_page_lists_the_declined_awards_and_the_waitlist(manager_client, freed):
    response = manager_client.get(reverse("manage_decisions", args=[freed.call.pk]))

    text = page_text(response)
    assert "Declined awards" in text
    assert "JUP27-1-0001 ALPHA Awarded · Declined 400,000" in text
    assert "JUPITER Booster (GPU-hours) 1,000,000 600,000 400,000" in text
    assert "4 JUP27-1-0004 DELTA The DELTA project 3.67" in text
    assert "Promote JUP27-1-0004" in text
    html = response.content.decode()
    # Prefilled with the default, within what is free.
    assert f'name="{field(freed, "DELTA")}" value="100000.00"' in html
    assert f'name="{field(freed, "ECHO")}" value="200000.00"' in html


def test_promoting_from_the_page(manager_client, freed):
    response = manager_client.post(url(freed, "DELTA"), {field(freed, "DELTA"): "80000"})

    target = reverse("manage_decisions", args=[freed.call.pk]) + "#waitlist"
    assert (response.status_code, response["Location"]) == (302, target)
    text = page_text(manager_client.get(target))
    assert (
        "JUP27-1-0004 is awarded from the waitlist; its allocation delta-jup27-1 is created and "
        "its team is told by email." in text
    )
    decision = Decision.objects.get(proposal=freed["DELTA"])
    assert (decision.outcome, list(decision.lines.values_list("amount", flat=True))) == (
        DecisionOutcome.PARTIALLY_AWARDED,
        [Decimal(80_000)],
    )


def test_a_refused_promotion_comes_back_beside_its_form(manager_client, freed):
    response = manager_client.post(url(freed, "ECHO"), {field(freed, "ECHO"): "lots"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<p class="error" id="id_{field(freed, "ECHO")}_error">Enter a number.</p>' in html
    assert f'name="{field(freed, "ECHO")}" value="lots"' in html

    response = manager_client.post(url(freed, "ECHO"), {field(freed, "ECHO"): "450000"})

    assert response.status_code == 200
    assert (
        "Nothing was saved JUPITER Booster: the awards add up to 1,050,000 GPU-hours, more "
        "than the budget of 1,000,000 GPU-hours." in page_text(response)
    )
    assert f'name="{field(freed, "ECHO")}" value="450000"' in response.content.decode()
    assert Decision.objects.get(proposal=freed["ECHO"]).outcome == DecisionOutcome.WAITLISTED


def test_promoting_a_proposal_off_the_waitlist_says_so(manager_client, freed):
    response = manager_client.post(url(freed, "FOXTROT"), {}, follow=True)

    assert "JUP27-1-0006 is not on the waitlist." in page_text(response)


def test_who_may_promote(client, freed, committee):
    on_committee(freed.call, committee)
    target = url(freed, "DELTA")
    data = {field(freed, "DELTA"): "100000"}

    response = client.post(target, data)
    assert (response.status_code, response["Location"]) == (302, login_url_for(target))
    for person in (freed["DELTA"].pi, committee):
        client.force_login(person)
        assert client.post(target, data).status_code == 403
    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))
    response = client.post(target, data)
    assert (response.status_code, response["Location"]) == (
        302,
        second_factor_url("mfa_activate_totp"),
    )
    assert Decision.objects.get(proposal=freed["DELTA"]).outcome == DecisionOutcome.WAITLISTED
    assert not LedgerEntry.objects.filter(allocation__proposal=freed["DELTA"]).exists()


def test_wrong_method_and_unknown_proposals(manager_client, freed):
    assert manager_client.get(url(freed, "DELTA")).status_code == 405
    unknown = reverse("waitlist_promote", args=[freed.call.pk, 999])
    assert manager_client.post(unknown).status_code == 404
    other_call = reverse("waitlist_promote", args=[999, freed["DELTA"].pk])
    assert manager_client.post(other_call).status_code == 404


def test_the_committee_reads_the_waitlist_without_promoting(client, freed, committee):
    on_committee(freed.call, committee)
    client.force_login(committee)

    response = client.get(reverse("manage_decisions", args=[freed.call.pk]))

    text = page_text(response)
    assert "JUP27-1-0001 ALPHA Awarded · Declined 400,000" in text
    assert "Default award" in text
    assert "JUPITER Booster: 100,000 GPU-hours" in text
    assert "Promote JUP27-1-0004" not in text
