"""The call_create and call_update services (the form pages are tested in test_manage_*)."""

import zoneinfo
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from proposals.calls.models import Call, CallCriterion, CallResource
from proposals.calls.services import call_create, call_update
from tests.factories import make_call, make_resource
from tests.proposals.helpers import amounts, criteria_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def call_data(**fields) -> dict:
    return {
        "code": "JUPITER 2027-1",
        "name": "JUPITER 2027-1",
        "reference_prefix": "JUP27-1",
        "time_zone": "Europe/Berlin",
        "opens_at": datetime(2026, 11, 1, 9, tzinfo=BERLIN),
        "closes_at": datetime(2027, 1, 15, 17, tzinfo=BERLIN),
        "review_due_at": datetime(2027, 2, 28, 17, tzinfo=BERLIN),
        "decisions_due_at": datetime(2027, 3, 31, 17, tzinfo=BERLIN),
        "period_start": date(2027, 5, 1),
        "period_end": date(2028, 4, 30),
        **fields,
    }


def budgets() -> list[dict]:
    return [
        {
            "resource": make_resource(),
            "budget": Decimal(1000),
            "min_request": Decimal(1),
            "max_request": Decimal(100),
        }
    ]


def criteria(*names: str) -> list[dict]:
    return [
        {"name": name, "description": "", "weight": Decimal(1), "scale_min": 0, "scale_max": 5}
        for name in names or ("Excellence",)
    ]


def test_create_writes_the_call_budgets_and_criteria_in_order(manager):
    call = call_create(by=manager, data=call_data(), budgets=budgets(), criteria=criteria("B", "A"))

    assert Call.objects.get().code == "JUPITER 2027-1"
    assert amounts(call) == [("jupiter-booster", Decimal(1000), Decimal(1), Decimal(100))]
    assert [(name, position) for name, *_, position in criteria_of(call)] == [("B", 0), ("A", 1)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"budgets": []}, "A call must offer at least one resource."),
        ({"criteria": []}, "A call needs at least one review criterion."),
    ],
)
def test_create_refuses_a_call_without_budgets_or_criteria(manager, rows, message):
    arguments = {"budgets": budgets(), "criteria": criteria(), **rows}

    with pytest.raises(ValidationError) as error:
        call_create(by=manager, data=call_data(), **arguments)

    assert error.value.messages == [message]
    assert Call.objects.count() == 0


def test_a_code_taken_meanwhile_is_refused_and_nothing_is_written(manager):
    make_call("jupiter 2027-1", reference_prefix="OTHER")

    with pytest.raises(ValidationError) as error:
        call_create(by=manager, data=call_data(), budgets=budgets(), criteria=criteria())

    assert error.value.message_dict == {"code": ["Another call already has this code."]}
    assert (Call.objects.count(), CallResource.objects.count()) == (1, 1)


def test_update_keeps_rows_it_is_given_and_drops_the_rest(manager):
    call = make_call()
    kept = call.criteria.get(name="Feasibility")
    other_calls_criterion = make_call("OTHER 2027-2").criteria.first()

    call_update(
        call=call,
        by=manager,
        data={"name": "New name"},
        budgets=[{**budgets()[0], "budget": Decimal(5000)}],
        criteria=[
            {**criteria("Feasibility (renamed)")[0], "id": kept.pk},
            {**criteria("New")[0], "id": other_calls_criterion.pk},
        ],
    )

    call.refresh_from_db()
    assert call.name == "New name"
    assert amounts(call) == [("jupiter-booster", Decimal(5000), Decimal(1), Decimal(100))]
    assert list(call.criteria.values_list("pk", "name", "position")) == [
        (kept.pk, "Feasibility (renamed)", 0),
        (call.criteria.get(name="New").pk, "New", 1),
    ]
    other_calls_criterion.refresh_from_db()
    assert other_calls_criterion.name == "Scientific excellence"
    assert CallCriterion.objects.filter(call=call).count() == 2
