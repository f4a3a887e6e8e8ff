"""Editing a call: its fields, budgets and criteria on one page, in the call's time zone."""

from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse

from proposals.calls.models import Call
from tests.factories import make_call, make_resource
from tests.proposals.helpers import amounts, assert_guarded, criteria_of, edit_post_data


def url(call) -> str:
    return reverse("manage_call_edit", args=[call.pk])


def ny_call() -> Call:
    return make_call(
        time_zone="America/New_York",
        opens_at=datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
        closes_at=datetime(2027, 1, 15, 22, 0, tzinfo=UTC),
        review_due_at=datetime(2027, 2, 28, 22, 0, tzinfo=UTC),
        decisions_due_at=datetime(2027, 3, 31, 21, 0, tzinfo=UTC),
    )


def test_edit_page_shows_dates_in_the_calls_zone(manager_client):
    call = ny_call()
    manager_client.cookies["tz"] = "Europe/Berlin"

    html = manager_client.get(url(call)).content.decode()

    assert 'name="closes_at" value="2027-01-15T17:00:00"' in html
    assert 'name="opens_at" value="2026-11-01T09:00:00"' in html
    assert 'name="decisions_due_at" value="2027-03-31T17:00:00"' in html


def test_unchanged_form_saves_the_same_call(manager_client):
    call = ny_call()
    before = (amounts(call), criteria_of(call), call.closes_at, call.code)

    response = manager_client.post(url(call), edit_post_data(call))

    assert response.status_code == 302
    call.refresh_from_db()
    assert (amounts(call), criteria_of(call), call.closes_at, call.code) == before


def test_manager_sets_the_quota_policy(manager_client):
    call = ny_call()
    assert call.quota_policy == "monthly"
    page = manager_client.get(url(call)).content.decode()
    assert '<option value="whole_period">Whole period</option>' in page

    response = manager_client.post(url(call), edit_post_data(call, quota_policy="whole_period"))

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.quota_policy == "whole_period"


def test_manager_changes_budgets_and_criteria(manager_client):
    booster = make_resource()
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    cluster = make_resource("juwels-cluster", name="JUWELS Cluster", unit="core-hours")
    call = make_call(
        resources=[
            (booster, Decimal(1000), Decimal(10), Decimal(100)),
            (storage, Decimal(50), Decimal(1), Decimal(10)),
        ]
    )
    kept_budget = call.call_resources.get(resource=booster).pk
    excellence, feasibility = call.criteria.order_by("position")
    data = edit_post_data(call, name="Renamed call")
    index = {row.resource_id: i for i, row in enumerate(call.call_resources.all())}
    data[f"budgets-{index[booster.pk]}-budget"] = "2000"
    data[f"budgets-{index[storage.pk]}-DELETE"] = "on"
    data.update(
        {
            "budgets-TOTAL_FORMS": "3",
            "budgets-2-resource": str(cluster.pk),
            "budgets-2-budget": "40000000",
            "budgets-2-min_request": "100000",
            "budgets-2-max_request": "5000000",
            "criteria-0-name": "Scientific quality",
            "criteria-1-DELETE": "on",
            "criteria-TOTAL_FORMS": "3",
            "criteria-2-name": "Impact",
            "criteria-2-description": "Who benefits",
            "criteria-2-weight": "0.5",
            "criteria-2-scale_min": "0",
            "criteria-2-scale_max": "5",
        }
    )

    response = manager_client.post(url(call), data)

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.name == "Renamed call"
    assert amounts(call) == [
        ("jupiter-booster", Decimal(2000), Decimal(10), Decimal(100)),
        ("juwels-cluster", Decimal(40_000_000), Decimal(100_000), Decimal(5_000_000)),
    ]
    assert call.call_resources.get(resource=booster).pk == kept_budget
    assert criteria_of(call) == [
        ("Scientific quality", "", Decimal(2), 0, 5, 0),
        ("Impact", "Who benefits", Decimal("0.5"), 0, 5, 1),
    ]
    assert call.criteria.get(name="Scientific quality").pk == excellence.pk
    assert not call.criteria.filter(pk=feasibility.pk).exists()


def test_a_removed_resource_can_come_back_in_a_new_row(manager_client):
    booster = make_resource()
    call = make_call(resources=[(booster, Decimal(1000), Decimal(10), Decimal(100))])
    data = edit_post_data(call)
    data.update(
        {
            "budgets-0-DELETE": "on",
            "budgets-TOTAL_FORMS": "2",
            "budgets-1-resource": str(booster.pk),
            "budgets-1-budget": "3000",
            "budgets-1-min_request": "0",
            "budgets-1-max_request": "300",
        }
    )

    assert manager_client.post(url(call), data).status_code == 302
    assert amounts(call) == [("jupiter-booster", Decimal(3000), Decimal(0), Decimal(300))]


def test_changing_the_zone_reads_the_typed_times_in_the_new_zone(manager_client):
    call = ny_call()

    manager_client.post(url(call), edit_post_data(call, time_zone="Europe/Berlin"))

    call.refresh_from_db()
    assert call.closes_at == datetime(2027, 1, 15, 16, 0, tzinfo=UTC)


def test_invalid_edit_keeps_typed_values_and_changes_nothing(manager_client):
    call = make_call()
    before = Call.objects.get(pk=call.pk).updated_at
    data = edit_post_data(call, code="NEW CODE 2027-1", review_due_at="2020-01-01T00:00:00")

    response = manager_client.post(url(call), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Edit JUPITER 2027-1</h1>" in html
    assert 'value="NEW CODE 2027-1"' in html
    assert 'value="2020-01-01T00:00:00"' in html
    assert "Reviews cannot be due before the call closes." in html
    call.refresh_from_db()
    assert (call.code, call.updated_at) == ("JUPITER 2027-1", before)


def test_code_of_another_call_is_refused(manager_client):
    make_call("JUPITER 2026-2")
    call = make_call("JUPITER 2027-1")

    response = manager_client.post(url(call), edit_post_data(call, code="Jupiter 2026-2"))

    assert dict(response.context["editor"].form.errors) == {
        "code": ["Another call already has this code."]
    }


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    assert_guarded(client, pi, url(make_call()))


def test_applicant_cannot_post_changes(pi_client):
    call = make_call()

    assert pi_client.post(url(call), edit_post_data(call, name="Hijacked")).status_code == 403
    call.refresh_from_db()
    assert call.name == "JUPITER 2027-1 call for proposals"


def test_unknown_call_is_404(manager_client):
    assert manager_client.get(reverse("manage_call_edit", args=[999])).status_code == 404


def test_other_methods_are_not_allowed(manager_client):
    assert manager_client.delete(url(make_call())).status_code == 405
