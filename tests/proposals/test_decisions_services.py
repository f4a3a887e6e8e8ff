"""Saving and suggesting decisions (PRODUCT §6): the suggestion on the worked example, the
default amounts, the budget refused in the transaction, the audit trail, and the refusals.

The call is ``decisions_factories.worked_example``: budget 1,000,000, six proposals.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from proposals.calls.models import AuditEntry, Call
from proposals.decisions.enums import AwardResponse, DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.services.budget import OverBudget
from proposals.decisions.services.saving import DecisionData, decisions_save, decisions_suggest
from proposals.submission.services.lifecycle import proposal_withdraw
from tests.conftest import make_user
from tests.proposal_factories import make_proposal
from tests.proposals.decisions_factories import (
    SUGGESTED,
    decide,
    decide_all,
    decisions_call,
    worked_example,
)
from tests.proposals.test_ranking import technical

pytestmark = pytest.mark.django_db

AWARDED = DecisionOutcome.AWARDED
PARTIAL = DecisionOutcome.PARTIALLY_AWARDED
WAITLISTED = DecisionOutcome.WAITLISTED
REJECTED = DecisionOutcome.REJECTED


@pytest.fixture
def example(db):
    return worked_example()


def lines(example) -> dict[str, Decimal]:
    """Every award line of the call by acronym."""
    return dict(
        AwardLine.objects.filter(decision__proposal__call=example.call).values_list(
            "decision__proposal__acronym", "amount"
        )
    )


def outcomes(example) -> dict[str, str]:
    return dict(
        Decision.objects.filter(proposal__call=example.call).values_list(
            "proposal__acronym", "outcome"
        )
    )


# --- The suggestion -------------------------------------------------------------------------------


def test_suggest_walks_the_ranking_from_the_top_until_the_budget_runs_out(example, manager):
    suggestion = decisions_suggest(call=example.call, by=manager)

    offer = example.offer_id
    assert [(d.proposal.acronym, d.outcome, d.amounts) for d in suggestion] == [
        # 400,000 fits in 1,000,000: 600,000 left.
        ("ALPHA", AWARDED, {offer: Decimal(400_000)}),
        # The request of 400,000 capped by the technical recommendation: 300,000 left.
        ("BRAVO", AWARDED, {offer: Decimal(300_000)}),
        # 400,000 does not fit in 300,000: what is left, and the budget is out.
        ("CHARLIE", PARTIAL, {offer: Decimal(300_000)}),
        # At or above the threshold once the budget is out: waitlisted, even ECHO at 3.00.
        ("DELTA", WAITLISTED, {}),
        ("ECHO", WAITLISTED, {}),
        # Below the threshold.
        ("FOXTROT", REJECTED, {}),
    ]
    assert Decision.objects.count() == 0


def test_suggest_with_a_budget_that_fits_everyone_above_the_threshold(example, manager):
    example.call.call_resources.update(budget=Decimal(2_000_000))

    suggestion = decisions_suggest(call=example.call, by=manager)

    assert [(d.proposal.acronym, d.outcome, d.amounts) for d in suggestion] == [
        ("ALPHA", AWARDED, {example.offer_id: Decimal(400_000)}),
        ("BRAVO", AWARDED, {example.offer_id: Decimal(300_000)}),
        ("CHARLIE", AWARDED, {example.offer_id: Decimal(400_000)}),
        ("DELTA", AWARDED, {example.offer_id: Decimal(100_000)}),
        ("ECHO", AWARDED, {example.offer_id: Decimal(200_000)}),
        ("FOXTROT", REJECTED, {}),
    ]


def test_suggest_is_for_managers_only(example, committee):
    with pytest.raises(PermissionDenied):
        decisions_suggest(call=example.call, by=committee)


def test_the_suggestion_saves_as_it_is(example, manager):
    suggestion = decisions_suggest(call=example.call, by=manager)

    decisions_save(call=example.call, by=manager, rows=suggestion)

    assert outcomes(example) == {key: value[0] for key, value in SUGGESTED.items()}
    assert lines(example) == {
        "ALPHA": Decimal(400_000),
        "BRAVO": Decimal(300_000),
        "CHARLIE": Decimal(300_000),
    }


# --- Default amounts ------------------------------------------------------------------------------


def test_default_amount_is_the_request_capped_by_the_technical_recommendation(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, None), "BRAVO": (AWARDED, None)})

    # ALPHA has no technical recommendation: its request. BRAVO asks 400,000, recommended 300,000.
    assert lines(example) == {"ALPHA": Decimal(400_000), "BRAVO": Decimal(300_000)}


def test_a_recommendation_above_the_request_does_not_raise_the_default(example, manager):
    technical(example["DELTA"], example.technical, "feasible", 150_000)

    decide(example, manager, {"DELTA": (AWARDED, None)})

    assert lines(example) == {"DELTA": Decimal(100_000)}


def test_the_latest_technical_review_gives_the_recommendation(example, manager):
    second = make_user("tina@centre.example", full_name="Tina Technical")
    technical(example["BRAVO"], second, "feasible", 250_000)

    decide(example, manager, {"BRAVO": (AWARDED, None)})

    assert lines(example) == {"BRAVO": Decimal(250_000)}


def test_an_amount_typed_replaces_the_default(example, manager):
    decide(example, manager, {"BRAVO": (PARTIAL, 120_000)})

    assert lines(example) == {"BRAVO": Decimal(120_000)}


def test_waitlisted_and_rejected_get_no_amount_whatever_is_sent(example, manager):
    decide(example, manager, {"DELTA": (WAITLISTED, 100_000), "FOXTROT": (REJECTED, 100_000)})

    assert outcomes(example) == {"DELTA": WAITLISTED, "FOXTROT": REJECTED}
    assert lines(example) == {}


# --- The budget -----------------------------------------------------------------------------------


def test_over_budget_is_refused_naming_the_resource_and_nothing_is_saved(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 500_000), "BRAVO": (AWARDED, 300_000)})
    audit_before = AuditEntry.objects.count()

    with pytest.raises(OverBudget) as refusal:
        decide(
            example,
            manager,
            # DELTA alone fits (900,000); CHARLIE then takes the total to 1,100,000.
            {"DELTA": (AWARDED, 100_000), "CHARLIE": (PARTIAL, 200_000)},
        )

    assert refusal.value.messages == [
        "JUPITER Booster: the awards add up to 1,100,000 GPU-hours, more than the budget of "
        "1,000,000 GPU-hours. Nothing was saved."
    ]
    assert (refusal.value.total, refusal.value.budget) == (Decimal(1_100_000), Decimal(1_000_000))
    assert outcomes(example) == {"ALPHA": AWARDED, "BRAVO": AWARDED}
    assert lines(example) == {"ALPHA": Decimal(500_000), "BRAVO": Decimal(300_000)}
    assert AuditEntry.objects.count() == audit_before


def test_changing_a_saved_award_is_checked_against_the_others(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 500_000), "BRAVO": (AWARDED, 500_000)})

    with pytest.raises(OverBudget):
        decide(example, manager, {"BRAVO": (AWARDED, 500_000), "CHARLIE": (AWARDED, 10_000)})
    decide(example, manager, {"ALPHA": (AWARDED, 400_000), "CHARLIE": (AWARDED, 100_000)})

    assert lines(example) == {
        "ALPHA": Decimal(400_000),
        "BRAVO": Decimal(500_000),
        "CHARLIE": Decimal(100_000),
    }


def test_exactly_the_budget_is_allowed(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 500_000), "BRAVO": (PARTIAL, 500_000)})

    assert sum(lines(example).values()) == Decimal(1_000_000)


def test_a_declined_award_counts_as_nothing(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 500_000), "BRAVO": (AWARDED, 500_000)})
    Decision.objects.filter(proposal=example["ALPHA"]).update(response=AwardResponse.DECLINED)

    decide(example, manager, {"CHARLIE": (AWARDED, 400_000)})

    assert lines(example) == {
        "ALPHA": Decimal(500_000),
        "BRAVO": Decimal(500_000),
        "CHARLIE": Decimal(400_000),
    }


def test_a_withdrawn_proposal_s_award_counts_as_nothing(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 500_000), "BRAVO": (AWARDED, 500_000)})
    proposal_withdraw(proposal=example["ALPHA"], by=example["ALPHA"].pi)

    decide(example, manager, {"CHARLIE": (AWARDED, 400_000)})

    assert lines(example)["CHARLIE"] == Decimal(400_000)


# --- The audit trail ------------------------------------------------------------------------------


def test_each_change_is_audited_with_before_and_after(example, manager):
    decide(example, manager, {"BRAVO": (AWARDED, None)}, BRAVO="Well argued.")
    decide(example, manager, {"BRAVO": (PARTIAL, 200_000)}, BRAVO="Well argued.")

    decision = Decision.objects.get(proposal=example["BRAVO"])
    entries = list(
        AuditEntry.objects.filter(subject_type="decision", subject_id=decision.pk)
        .order_by("pk")
        .values_list("action", "actor", "call", "before", "after")
    )
    assert entries == [
        (
            "decision.saved",
            manager.pk,
            example.call.pk,
            {},
            {
                "outcome": "awarded",
                "amounts": {"jupiter-booster": "300000.00"},
                "message": "Well argued.",
            },
        ),
        (
            "decision.saved",
            manager.pk,
            example.call.pk,
            {
                "outcome": "awarded",
                "amounts": {"jupiter-booster": "300000.00"},
                "message": "Well argued.",
            },
            {
                "outcome": "partially_awarded",
                "amounts": {"jupiter-booster": "200000.00"},
                "message": "Well argued.",
            },
        ),
    ]
    assert decision.decided_by == manager


def test_saving_the_same_decision_again_writes_nothing(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, 400_000)}, ALPHA="Yes.")
    before = AuditEntry.objects.count()
    updated = Decision.objects.get(proposal=example["ALPHA"]).updated_at

    written = decide(example, manager, {"ALPHA": (AWARDED, 400_000)}, ALPHA="Yes.")

    assert written == []
    assert AuditEntry.objects.count() == before
    assert Decision.objects.get(proposal=example["ALPHA"]).updated_at == updated


# --- Refusals -------------------------------------------------------------------------------------


def test_only_managers_save(example, committee):
    with pytest.raises(PermissionDenied):
        decide(example, committee, {"ALPHA": (AWARDED, None)})
    assert Decision.objects.count() == 0


def test_editing_after_publication_is_refused(example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, None)})
    Call.objects.filter(pk=example.call.pk).update(decisions_published_at=timezone.now())

    with pytest.raises(ValidationError) as refusal:
        decide(example, manager, {"ALPHA": (REJECTED, None)})

    assert refusal.value.messages == [
        "The decisions of JUPITER 2027-1 are published; they can no longer be changed."
    ]
    assert outcomes(example) == {"ALPHA": AWARDED}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            500_001,
            "JUP27-1-0001: at most 500,000 GPU-hours of JUPITER Booster can be awarded to one "
            "proposal.",
        ),
        (-1, "JUP27-1-0001: the amount of JUPITER Booster cannot be negative."),
        (0, "JUP27-1-0001: an award needs an amount of at least one resource."),
    ],
)
def test_wrong_amounts_are_refused(example, manager, amount, message):
    with pytest.raises(ValidationError) as refusal:
        decide(example, manager, {"ALPHA": (AWARDED, amount)})

    assert refusal.value.messages == [message]
    assert Decision.objects.count() == 0


def test_a_proposal_of_another_call_or_not_in_competition_is_refused(example, manager):
    other_call = decisions_call(code="JUPITER 2027-2", reference_prefix="JUP27-2")
    draft = make_proposal(other_call, example["ALPHA"].pi, acronym="ELSEWHERE")

    with pytest.raises(ValidationError) as refusal:
        decisions_save(
            call=example.call,
            by=manager,
            rows=[DecisionData(proposal=draft, outcome=REJECTED)],
        )

    assert refusal.value.messages == [f"{draft.pk} is not a proposal in competition in this call."]


def test_an_unknown_outcome_is_refused(example, manager):
    with pytest.raises(ValidationError) as refusal:
        decisions_save(
            call=example.call,
            by=manager,
            rows=[DecisionData(proposal=example["ALPHA"], outcome="maybe")],
        )

    assert refusal.value.messages == ["JUP27-1-0001: choose a decision."]


def test_the_suggested_decisions_fill_the_budget_exactly(example, manager):
    decide_all(example, manager)

    assert sum(lines(example).values()) == Decimal(1_000_000)
