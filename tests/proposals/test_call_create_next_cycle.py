"""The next cycle in one step: settings, budgets and criteria copied, dates six months on."""

import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from proposals.calls.forms import CallForm
from proposals.calls.models import Call
from proposals.calls.services import (
    DATE_FIELDS,
    DATETIME_FIELDS,
    EDITABLE_FIELDS,
    call_create_next_cycle,
    call_role_add,
)
from tests.factories import make_call, make_resource
from tests.proposals.helpers import amounts, criteria_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def winter_call(code: str = "JUPITER 2027-1", **fields) -> Call:
    """Opens and closes in winter time, reviews and decisions in summer time."""
    defaults = {
        "reference_prefix": "JUP27-1",
        "name": "JUPITER 2027-1: AI at scale",
        "opens_at": datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN),
        "closes_at": datetime(2027, 1, 15, 17, 0, tzinfo=BERLIN),
        "review_due_at": datetime(2027, 3, 1, 17, 0, tzinfo=BERLIN),
        "reply_opens_at": datetime(2027, 3, 8, 9, 0, tzinfo=BERLIN),
        "reply_closes_at": datetime(2027, 3, 22, 17, 0, tzinfo=BERLIN),
        "decisions_due_at": datetime(2027, 4, 15, 17, 0, tzinfo=BERLIN),
        "period_start": date(2027, 5, 1),
        "period_end": date(2028, 4, 30),
    }
    return make_call(code, **{**defaults, **fields})


def local(value: datetime) -> datetime:
    return value.astimezone(BERLIN).replace(tzinfo=None)


def test_every_date_moves_six_months_at_the_same_wall_clock_time(manager):
    call = winter_call()

    new = call_create_next_cycle(call=call, by=manager)

    assert [local(getattr(new, name)) for name in ("opens_at", "closes_at", "review_due_at")] == [
        datetime(2027, 5, 2, 9, 0),
        datetime(2027, 7, 15, 17, 0),
        datetime(2027, 9, 1, 17, 0),
    ]
    assert local(new.reply_opens_at) == datetime(2027, 9, 8, 9, 0)
    assert local(new.reply_closes_at) == datetime(2027, 9, 22, 17, 0)
    assert local(new.decisions_due_at) == datetime(2027, 10, 15, 17, 0)
    # 17:00 CET is 16:00 UTC; 17:00 CEST is 15:00 UTC.
    assert call.closes_at == datetime(2027, 1, 15, 16, 0, tzinfo=UTC)
    assert new.closes_at == datetime(2027, 7, 15, 15, 0, tzinfo=UTC)
    assert (new.period_start, new.period_end) == (date(2027, 11, 1), date(2028, 10, 31))


def test_code_name_and_prefix_move_to_the_second_half(manager):
    new = call_create_next_cycle(call=winter_call(), by=manager)

    assert (new.code, new.name, new.reference_prefix) == (
        "JUPITER 2027-2",
        "JUPITER 2027-2: AI at scale",
        "JUP27-2",
    )


def test_after_the_second_half_comes_next_years_first(manager):
    call = make_call("JUPITER 2027-2", name="JUPITER 2027-2 call", reference_prefix="JUP27-2")

    new = call_create_next_cycle(call=call, by=manager)

    assert (new.code, new.name, new.reference_prefix) == (
        "JUPITER 2028-1",
        "JUPITER 2028-1 call",
        "JUP28-1",
    )


def test_settings_budgets_and_criteria_are_copied(manager):
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    call = winter_call(
        description="About",
        guidelines="Rules",
        time_zone="Europe/Berlin",
        reviewers_per_proposal=3,
        technical_review=False,
        review_visibility="always",
        fundable_threshold=Decimal("3.50"),
        right_of_reply=True,
        reply_length_limit=2000,
        pdf_page_limit=12,
        pdf_size_limit_mb=20,
        quota_policy="whole_period",
        resources=[
            (make_resource(), Decimal(2_500_000), Decimal(10_000), Decimal(500_000)),
            (storage, Decimal(500), Decimal(1), Decimal(100)),
        ],
    )
    call_role_add(call=call, email="reviewer@inst.example", role="reviewer", by=manager)

    new = call_create_next_cycle(call=call, by=manager)

    moved = {"code", "name", "reference_prefix", *DATETIME_FIELDS, *DATE_FIELDS}
    settings = [name for name in EDITABLE_FIELDS if name not in moved]
    new.refresh_from_db()
    assert new.quota_policy == "whole_period"
    assert {name: getattr(new, name) for name in settings} == {
        name: getattr(call, name) for name in settings
    }
    assert amounts(new) == amounts(call)
    assert criteria_of(new) == criteria_of(call)
    assert new.roles.count() == 0
    assert (new.archived_at, new.decisions_published_at) == (None, None)


def test_a_taken_code_is_refused(manager):
    call = winter_call()
    make_call("jupiter 2027-2", reference_prefix="OTHER")

    with pytest.raises(ValidationError) as error:
        call_create_next_cycle(call=call, by=manager)

    assert error.value.messages == [
        "The next cycle's code “JUPITER 2027-2” is already taken by another call."
    ]
    assert Call.objects.count() == 2


def test_a_taken_reference_prefix_is_refused(manager):
    call = winter_call()
    make_call("SPECIAL 2027-1", reference_prefix="JUP27-2")

    with pytest.raises(ValidationError) as error:
        call_create_next_cycle(call=call, by=manager)

    assert error.value.messages == [
        "The next cycle's reference prefix “JUP27-2” is already taken by another call."
    ]


def test_a_code_without_year_and_half_is_refused(manager):
    call = make_call("Special call", reference_prefix="SPC-1")

    with pytest.raises(ValidationError) as error:
        call_create_next_cycle(call=call, by=manager)

    assert error.value.messages == [
        "Cannot suggest the next code after “Special call”: it has no year and half like 2027-1."
    ]


def test_every_field_a_manager_may_set_is_in_the_form_and_copied():
    """A new setting on the model that is not in EDITABLE_FIELDS would be lost by the next
    cycle and missing from the call form and the admin."""
    editable = {
        field.name
        for field in Call._meta.concrete_fields
        if field.editable and not field.primary_key
    }

    assert set(EDITABLE_FIELDS) == editable
    assert set(CallForm().fields) == editable
