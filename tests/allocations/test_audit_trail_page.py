"""The audit trail's page and CSV (PRODUCT §9): filters in the query, names and dates people
read, formula-neutral CSV, for call managers with the second factor only."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.calls.audit import audit_record
from tests.conftest import force_login_without_second_factor, make_manager
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded

pytestmark = pytest.mark.django_db

MAY = datetime(2027, 5, 3, 15, 30, tzinfo=UTC)
JUNE = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(manager, pi, reviewer):
    first, second = make_call(), make_call(code="JUPITER 2027-2", reference_prefix="JUP27-2")
    audit_record(subject=first, action="call.archived", actor=manager, call=first, at=MAY)
    audit_record(
        subject=second,
        action="call.edited",
        actor=pi,
        call=second,
        person=reviewer,
        before={"name": "Old"},
        after={"name": '=HYPERLINK("x")'},
        at=JUNE,
    )
    return first, second


def listed(response) -> list[tuple[str, str, str]]:
    return [(r.actor, r.action, r.subject) for r in response.context["rows"]]


def test_names_and_dates_read_as_people_read_them(client, manager, world):
    client.force_login(manager)

    response = client.get(reverse("audit_trail"))

    assert listed(response) == [
        ("Paula Investigator", "Call edited", "JUPITER 2027-2"),
        ("Marta Manager", "Call archived", world[0].code),
    ]
    html = response.content.decode()
    assert "1 Jun 2027, 11:00 CEST" in html
    assert "Person: Rita Reviewer" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "call.archived"}, ["Call archived"]),
        ({"person": "reviewer@inst.example"}, ["Call edited"]),
        ({"person": "pi@uni.example"}, ["Call edited"]),
        ({"since": "2027-05-04"}, ["Call edited"]),
        ({"until": "2027-05-03"}, ["Call archived"]),
        ({"since": "2027-05-03", "until": "2027-06-01"}, ["Call edited", "Call archived"]),
    ],
)
def test_filters(client, manager, world, query, expected):
    client.force_login(manager)

    response = client.get(reverse("audit_trail"), query)

    assert [action for _a, action, _s in listed(response)] == expected


def test_the_call_filter_and_the_calls_own_page(client, manager, world):
    client.force_login(manager)
    first, _second = world

    by_filter = client.get(reverse("audit_trail"), {"call": first.pk})
    by_page = client.get(reverse("call_audit", args=[first.pk]))

    assert listed(by_filter) == listed(by_page) == [("Marta Manager", "Call archived", first.code)]


def test_bad_filters_are_named_beside_their_field_and_left_out(client, manager, world):
    client.force_login(manager)

    response = client.get(
        reverse("audit_trail"),
        {"person": "nobody@nowhere.example", "since": "2027-13-40", "action": "x\x00"},
    )

    assert response.status_code == 200
    errors = response.context["filters"].errors
    assert errors["person"] == ["No account has this email address."]
    assert "since" in errors and "action" in errors
    assert len(listed(response)) == 2
    assert 'value="nobody@nowhere.example"' in response.content.decode()


def test_the_csv_has_the_same_filters_and_neutral_formulas(client, manager, world):
    client.force_login(manager)

    response = client.get(reverse("audit_export"), {"person": "reviewer@inst.example"})

    assert response["Content-Disposition"] == 'attachment; filename="audit-all-calls.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["When", "Who", "Action", "Call", "About", "Person", "Field", "Before", "After"],
        [
            "1 Jun 2027, 11:00 CEST",
            "Paula Investigator",
            "Call edited",
            "JUPITER 2027-2",
            "JUPITER 2027-2",
            "Rita Reviewer",
            "name",
            "Old",
            '\'=HYPERLINK("x")',
        ],
    ]


@pytest.mark.parametrize("name", ["audit_trail", "audit_export"])
def test_only_call_managers_with_the_second_factor(client, pi, name):
    assert_guarded(client, pi, reverse(name))
    nomfa = make_manager("halfway@centre.example")
    force_login_without_second_factor(client, nomfa)
    assert client.get(reverse(name)).status_code == 302  # to confirm the second factor first
    assert client.post(reverse(name)).status_code in (302, 405)


def test_the_pages_refuse_post(client, manager):
    client.force_login(manager)
    for url in (reverse("audit_trail"), reverse("audit_export")):
        assert client.post(url).status_code == 405


def test_a_call_that_does_not_exist_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("call_audit", args=[99999])).status_code == 404


def test_the_list_runs_the_same_queries_for_few_and_many(client, manager, world, pi):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit_trail"))
    for n in range(20):
        audit_record(
            subject=world[0], action="call.edited", actor=pi, call=world[0], after={"n": n}
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("audit_trail"))

    assert len(response.context["rows"]) == 22
    assert len(few) == len(many)
