"""Creating a call: one page with the call, its budgets and its criteria."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from proposals.calls.models import Call
from tests.factories import make_call, make_resource
from tests.proposals.helpers import amounts, assert_guarded, call_post_data, criteria_of

URL = reverse("manage_call_create")


def errors_of(response) -> dict:
    editor = response.context["editor"]
    return {name: list(errors) for name, errors in editor.form.errors.items()}


def test_create_page_offers_empty_rows(manager_client):
    response = manager_client.get(URL)

    assert response.status_code == 200
    editor = response.context["editor"]
    assert (len(editor.budgets.forms), len(editor.criteria.forms)) == (3, 3)
    html = response.content.decode()
    assert 'type="datetime-local"' in html and 'step="1"' in html
    assert '<label for="id_closes_at">Closes' in html


def test_manager_creates_a_call_with_budgets_and_criteria(manager_client):
    booster = make_resource()
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    data = call_post_data(
        budgets=[
            {
                "resource": str(booster.pk),
                "budget": "2500000",
                "min_request": "10000",
                "max_request": "500000",
            },
            {
                "resource": str(storage.pk),
                "budget": "500",
                "min_request": "1",
                "max_request": "100",
            },
        ],
        criteria=[
            {
                "name": "Excellence",
                "description": "Science",
                "weight": "2",
                "scale_min": "0",
                "scale_max": "5",
            },
            {
                "name": "Feasibility",
                "description": "",
                "weight": "1",
                "scale_min": "1",
                "scale_max": "10",
            },
        ],
    )

    response = manager_client.post(URL, data)

    assert response.status_code == 302
    assert response["Location"] == reverse("manage_call_list")
    call = Call.objects.get()
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Call JUPITER 2027-1 created."]
    assert (call.code, call.name, call.reference_prefix) == (
        "JUPITER 2027-1",
        "JUPITER 2027-1: AI at scale",
        "JUP27-1",
    )
    assert call.guidelines == "Line one.\nLine two."
    assert call.opens_at == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 1, 15, 16, 0, tzinfo=UTC)
    assert call.decisions_due_at == datetime(2027, 3, 31, 15, 0, tzinfo=UTC)  # CEST by then
    assert (call.period_start, call.period_end) == (date(2027, 5, 1), date(2028, 4, 30))
    assert (call.reply_opens_at, call.reply_closes_at) == (None, None)
    assert (call.technical_review, call.right_of_reply) == (True, False)
    assert amounts(call) == [
        ("jupiter-booster", Decimal(2_500_000), Decimal(10_000), Decimal(500_000)),
        ("project-storage", Decimal(500), Decimal(1), Decimal(100)),
    ]
    assert criteria_of(call) == [
        ("Excellence", "Science", Decimal(2), 0, 5, 0),
        ("Feasibility", "", Decimal(1), 1, 10, 1),
    ]


def test_dates_are_typed_in_the_calls_zone_and_shown_back_in_it(manager_client, client):
    client.cookies["tz"] = "Asia/Seoul"  # the manager's own zone plays no part
    data = call_post_data(
        time_zone="America/New_York",
        opens_at="2026-11-01T09:00:00",
        closes_at="2027-01-15T17:00:00",
        review_due_at="2027-02-28T17:00:00",
        decisions_due_at="2027-03-31T17:00:00",
    )

    assert manager_client.post(URL, data).status_code == 302

    call = Call.objects.get()
    assert call.closes_at == datetime(2027, 1, 15, 22, 0, tzinfo=UTC)
    assert call.decisions_due_at == datetime(2027, 3, 31, 21, 0, tzinfo=UTC)  # EDT
    edit = manager_client.get(reverse("manage_call_edit", args=[call.pk])).content.decode()
    assert 'value="2027-01-15T17:00:00"' in edit
    assert 'value="2027-03-31T17:00:00"' in edit


def test_seconds_can_be_typed(manager_client):
    manager_client.post(URL, call_post_data(closes_at="2027-01-15T16:59:59"))

    assert Call.objects.get().closes_at == datetime(2027, 1, 15, 15, 59, 59, tzinfo=UTC)


def test_invalid_submit_keeps_every_typed_value(manager_client):
    resource = make_resource()
    data = call_post_data(
        code="TYPED 2027-1",
        name="A name I typed",
        reference_prefix="TYP27-1",
        description="My description",
        guidelines="My guidelines",
        opens_at="2027-02-01T09:00:00",
        closes_at="2027-01-15T17:00:00",
        review_due_at="2027-02-28T17:00:00",
        decisions_due_at="2027-03-31T17:00:00",
        reply_opens_at="2027-03-02T10:00:00",
        reply_closes_at="2027-03-09T12:00:00",
        fundable_threshold="3.25",
        reply_length_limit="2500",
        budgets=[
            {
                "resource": str(resource.pk),
                "budget": "123456",
                "min_request": "789",
                "max_request": "4567",
            }
        ],
        criteria=[
            {
                "name": "Typed criterion",
                "description": "Typed text",
                "weight": "1.5",
                "scale_min": "1",
                "scale_max": "7",
            }
        ],
    )

    response = manager_client.post(URL, data)

    assert response.status_code == 200
    assert Call.objects.count() == 0
    assert errors_of(response) == {"closes_at": ["The call must close after it opens."]}
    html = response.content.decode()
    for typed in [
        'value="TYPED 2027-1"',
        'value="A name I typed"',
        'value="TYP27-1"',
        "My description</textarea>",
        "My guidelines</textarea>",
        'value="2027-02-01T09:00:00"',
        'value="2027-01-15T17:00:00"',
        'value="2027-02-28T17:00:00"',
        'value="2027-03-31T17:00:00"',
        'value="2027-03-02T10:00:00"',
        'value="2027-03-09T12:00:00"',
        'value="3.25"',
        'value="2500"',
        'value="123456"',
        'value="789"',
        'value="4567"',
        'value="Typed criterion"',
        "Typed text</textarea>",
        'value="1.5"',
        'value="7"',
        f'<option value="{resource.pk}" selected>',
    ]:
        assert typed in html, typed
    assert "Nothing you typed has been lost." in html


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"opens_at": "2027-01-15T17:00:00", "closes_at": "2027-01-15T17:00:00"},
            {"closes_at": ["The call must close after it opens."]},
        ),
        (
            {"review_due_at": "2027-01-15T16:59:59"},
            {"review_due_at": ["Reviews cannot be due before the call closes."]},
        ),
        (
            {"decisions_due_at": "2027-02-27T17:00:00"},
            {"decisions_due_at": ["Decisions cannot be due before the reviews."]},
        ),
        (
            {"period_end": "2027-05-01"},
            {"period_end": ["The allocation period must end after it starts."]},
        ),
        (
            {"reply_opens_at": "2027-03-01T09:00:00"},
            {"reply_closes_at": ["Give the closing too, or leave both empty."]},
        ),
        (
            {"reply_closes_at": "2027-03-10T09:00:00"},
            {"reply_opens_at": ["Give the opening too, or leave both empty."]},
        ),
        (
            {"reply_opens_at": "2027-03-10T09:00:00", "reply_closes_at": "2027-03-03T09:00:00"},
            {"reply_closes_at": ["The right of reply must close after it opens."]},
        ),
        (
            {"reply_opens_at": "2027-02-20T09:00:00", "reply_closes_at": "2027-03-03T09:00:00"},
            {"reply_opens_at": ["The right of reply cannot open before reviews are due."]},
        ),
        (
            {"reply_opens_at": "2027-03-01T09:00:00", "reply_closes_at": "2027-04-03T09:00:00"},
            {"reply_closes_at": ["The right of reply must close by the time decisions are due."]},
        ),
        (
            {"opens_at": "2026-03-29T02:30:00"},
            {
                "opens_at": [
                    "This time does not exist in Europe/Berlin: the clocks skip it that night."
                ]
            },
        ),
        ({"closes_at": "15.01.2027 17:00"}, {"closes_at": ["Enter a valid date/time."]}),
        (
            {"reference_prefix": "JUP 27/1"},
            {"reference_prefix": ["Use only letters, digits and dashes, e.g. JUP27-1."]},
        ),
        ({"code": ""}, {"code": ["This field is required."]}),
    ],
)
def test_invalid_call_fields_get_a_message_beside_the_field(manager_client, fields, expected):
    response = manager_client.post(URL, call_post_data(**fields))

    assert response.status_code == 200
    assert errors_of(response) == expected
    assert Call.objects.count() == 0


def test_code_must_be_unique_ignoring_case(manager_client):
    make_call("JUPITER 2027-1", reference_prefix="OTHER")

    response = manager_client.post(URL, call_post_data(code="jupiter 2027-1"))

    assert errors_of(response) == {"code": ["Another call already has this code."]}


def test_reference_prefix_must_be_unique(manager_client):
    make_call("OTHER 2026-1", reference_prefix="JUP27-1")

    response = manager_client.post(URL, call_post_data(reference_prefix="jup27-1"))

    assert errors_of(response) == {
        "reference_prefix": ["Another call already uses this reference prefix."]
    }


def budget_row(resource, budget="1000", minimum="10", maximum="100") -> dict:
    return {
        "resource": str(resource.pk),
        "budget": budget,
        "min_request": minimum,
        "max_request": maximum,
    }


def row_errors(formset) -> list[dict]:
    return [dict(form.errors) for form in formset.forms]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"minimum": "200", "maximum": "100"},
            {"min_request": ["The minimum request cannot be above the maximum."]},
        ),
        ({"maximum": "1001"}, {"max_request": ["The maximum request cannot exceed the budget."]}),
        (
            {"budget": "0", "minimum": "0", "maximum": "0"},
            {"budget": ["The budget must be more than zero."]},
        ),
        ({"minimum": "-1"}, {"min_request": ["The minimum request cannot be negative."]}),
        ({"budget": ""}, {"budget": ["This field is required."]}),
    ],
)
def test_budget_limits_are_checked_per_row(manager_client, row, expected):
    response = manager_client.post(
        URL, call_post_data(budgets=[budget_row(make_resource(), **row)])
    )

    assert row_errors(response.context["editor"].budgets) == [expected]
    assert Call.objects.count() == 0


def test_a_resource_can_be_offered_once(manager_client):
    resource = make_resource()

    response = manager_client.post(
        URL, call_post_data(budgets=[budget_row(resource), budget_row(resource)])
    )

    assert row_errors(response.context["editor"].budgets) == [
        {},
        {"resource": ["This resource is already listed above."]},
    ]


def test_empty_rows_are_ignored(manager_client):
    resource = make_resource()
    blank_budget = {"resource": "", "budget": "", "min_request": "0", "max_request": ""}
    blank_criterion = {
        "name": "",
        "description": "",
        "weight": "1",
        "scale_min": "0",
        "scale_max": "5",
    }
    data = call_post_data(
        budgets=[budget_row(resource), blank_budget],
        criteria=[
            {
                "name": "Excellence",
                "description": "",
                "weight": "1",
                "scale_min": "0",
                "scale_max": "5",
            },
            blank_criterion,
        ],
    )

    assert manager_client.post(URL, data).status_code == 302
    call = Call.objects.get()
    assert (call.call_resources.count(), call.criteria.count()) == (1, 1)


def test_at_least_one_resource_and_one_criterion(manager_client):
    response = manager_client.post(URL, call_post_data(budgets=[], criteria=[]))

    editor = response.context["editor"]
    assert list(editor.budgets.non_form_errors()) == ["Offer at least one resource."]
    assert list(editor.criteria.non_form_errors()) == ["Give at least one review criterion."]
    html = response.content.decode()
    assert "Offer at least one resource." in html
    assert "Give at least one review criterion." in html


def test_rows_marked_for_removal_do_not_count(manager_client):
    data = call_post_data(budgets=[{**budget_row(make_resource()), "DELETE": "on"}])

    response = manager_client.post(URL, data)

    assert list(response.context["editor"].budgets.non_form_errors()) == [
        "Offer at least one resource."
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [{"name": "A", "description": "", "weight": "1", "scale_min": "5", "scale_max": "5"}],
            [{"scale_max": ["The highest score must be above the lowest."]}],
        ),
        (
            [{"name": "A", "description": "", "weight": "0", "scale_min": "0", "scale_max": "5"}],
            [{"weight": ["The weight must be more than zero."]}],
        ),
        (
            [
                {
                    "name": "Excellence",
                    "description": "",
                    "weight": "1",
                    "scale_min": "0",
                    "scale_max": "5",
                },
                {
                    "name": "excellence ",
                    "description": "",
                    "weight": "1",
                    "scale_min": "0",
                    "scale_max": "5",
                },
            ],
            [{}, {"name": ["Another criterion already has this name."]}],
        ),
    ],
)
def test_criteria_are_checked(manager_client, rows, expected):
    response = manager_client.post(URL, call_post_data(criteria=rows))

    assert row_errors(response.context["editor"].criteria) == expected
    assert Call.objects.count() == 0


def test_inactive_resources_are_not_offered(manager_client):
    retired = make_resource("old-machine", name="Old machine", is_active=False)

    response = manager_client.post(URL, call_post_data(budgets=[budget_row(retired)]))

    assert row_errors(response.context["editor"].budgets) == [
        {"resource": ["Select a valid choice. That choice is not one of the available choices."]}
    ]


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    assert_guarded(client, pi, URL)


def test_applicant_cannot_post_a_call(pi_client):
    assert pi_client.post(URL, call_post_data()).status_code == 403
    assert Call.objects.count() == 0


def test_other_methods_are_not_allowed(manager_client):
    assert manager_client.put(URL).status_code == 405
    assert manager_client.delete(URL).status_code == 405
