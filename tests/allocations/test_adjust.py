"""Ledger adjustments by a manager: the service and the form on the allocation page."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry
from allocations.selectors.ledger import balance
from allocations.services.ledger import allocation_adjust
from proposals.calls.models import AuditEntry
from tests.allocation_factories import add_usage, make_allocation
from tests.factories import make_resource
from tests.proposals.helpers import assert_guarded

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000})
    add_usage(allocation, booster, 2_000, on=date(2027, 6, 1))
    return allocation


def adjustments(allocation) -> list[tuple]:
    return list(
        LedgerEntry.objects.filter(allocation=allocation, kind=LedgerKind.ADJUSTMENT).values_list(
            "resource__code", "amount", "reason", "author__email"
        )
    )


def audits(allocation) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(action="allocation.adjusted", subject_id=allocation.pk)
        .order_by("pk")
        .values_list("call_id", "actor__email", "before", "after")
    )


# --- The service -----------------------------------------------------------------------------


def test_an_increase_is_a_new_entry_with_an_audit_entry(allocation, booster, manager):
    entry = allocation_adjust(
        allocation=allocation,
        resource=booster,
        amount=Decimal(1_500),
        reason="Approved by the committee chair: scaling runs.",
        by=manager,
    )

    assert adjustments(allocation) == [
        (
            "jupiter-booster",
            Decimal(1_500),
            "Approved by the committee chair: scaling runs.",
            "manager@centre.example",
        )
    ]
    assert balance(allocation, booster) == Decimal(11_500)
    assert audits(allocation) == [
        (
            allocation.proposal.call_id,
            "manager@centre.example",
            {"resource": "jupiter-booster", "balance": "10000"},
            {
                "resource": "jupiter-booster",
                "balance": "11500",
                "amount": "1500",
                "reason": "Approved by the committee chair: scaling runs.",
                "entry": entry.pk,
            },
        )
    ]


def test_a_reduction_may_take_the_balance_to_zero_exactly(allocation, booster, manager):
    allocation_adjust(
        allocation=allocation,
        resource=booster,
        amount=Decimal(-10_000),
        reason="Project stopped.",
        by=manager,
    )

    assert balance(allocation, booster) == Decimal(0)
    assert audits(allocation)[0][3]["balance"] == "0"


def test_a_reduction_below_zero_is_refused_and_nothing_is_written(allocation, booster, manager):
    with pytest.raises(ValidationError) as refused:
        allocation_adjust(
            allocation=allocation,
            resource=booster,
            amount=Decimal("-10000.01"),
            reason="Too much.",
            by=manager,
        )

    assert refused.value.message_dict == {
        "amount": [
            "This would take the balance below zero: 10,000 GPU-hours are left, so the "
            "largest reduction is −10,000."
        ]
    }
    assert adjustments(allocation) == []
    assert audits(allocation) == []
    assert balance(allocation, booster) == Decimal(10_000)


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [(Decimal(100), "   ", "reason"), (Decimal(0), "Because.", "amount")],
)
def test_a_reason_and_a_non_zero_amount_are_required(
    allocation, booster, manager, amount, reason, field
):
    with pytest.raises(ValidationError) as refused:
        allocation_adjust(
            allocation=allocation, resource=booster, amount=amount, reason=reason, by=manager
        )

    assert list(refused.value.message_dict) == [field]
    assert adjustments(allocation) == []


def test_a_resource_the_allocation_does_not_have_is_refused(allocation, manager):
    other = make_resource("juwels-cluster", name="JUWELS Cluster")

    with pytest.raises(ValidationError) as refused:
        allocation_adjust(
            allocation=allocation, resource=other, amount=Decimal(10), reason="x", by=manager
        )

    assert refused.value.message_dict == {
        "resource": ["This allocation has nothing of JUWELS Cluster."]
    }
    assert LedgerEntry.objects.filter(resource=other).count() == 0


def test_only_a_call_manager_may_adjust(allocation, booster, pi):
    with pytest.raises(PermissionDenied):
        allocation_adjust(
            allocation=allocation, resource=booster, amount=Decimal(10), reason="Me.", by=pi
        )

    assert adjustments(allocation) == []


# --- The form --------------------------------------------------------------------------------


def url(allocation) -> str:
    return reverse("allocation_adjust", args=[allocation.pk])


def test_the_form_adds_the_adjustment_and_returns_to_the_allocation(
    manager_client, allocation, booster
):
    response = manager_client.post(
        url(allocation),
        {"resource": booster.pk, "amount": "-250.50", "reason": "Maintenance credit reversed."},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("manage_allocation", args=[allocation.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Adjusted JUPITER Booster by -250.5 GPU-hours."
    ]
    assert adjustments(allocation) == [
        (
            "jupiter-booster",
            Decimal("-250.50"),
            "Maintenance credit reversed.",
            "manager@centre.example",
        )
    ]
    assert balance(allocation, booster) == Decimal("9749.50")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "100", "reason": ""}, "reason"),
        ({"amount": "0", "reason": "Because."}, "amount"),
        ({"amount": "ten", "reason": "Because."}, "amount"),
        ({"amount": "1.234", "reason": "Because."}, "amount"),
        ({"amount": "-10001", "reason": "Too much."}, "amount"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_written(
    manager_client, allocation, booster, data, field
):
    response = manager_client.post(url(allocation), {"resource": booster.pk, **data})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert adjustments(allocation) == []


def test_a_resource_of_another_allocation_is_not_a_choice(manager_client, allocation):
    other = make_resource("juwels-cluster", name="JUWELS Cluster")

    response = manager_client.post(
        url(allocation), {"resource": other.pk, "amount": "5", "reason": "x"}
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["resource"]


def test_adjusting_is_for_call_managers_only(client, allocation, pi):
    assert_guarded(client, pi, url(allocation), method="post")
    assert adjustments(allocation) == []


def test_adjusting_an_unknown_allocation_is_404(manager_client, booster):
    response = manager_client.post(
        reverse("allocation_adjust", args=[99999]),
        {"resource": booster.pk, "amount": "5", "reason": "x"},
    )

    assert response.status_code == 404


def test_adjusting_needs_a_post(manager_client, allocation):
    assert manager_client.get(url(allocation)).status_code == 405
