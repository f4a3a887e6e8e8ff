"""A call's audit trail for its managers (PRODUCT §9): who, when, action, before → after."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from allocations.selectors.audit import AUDIT_PAGE_SIZE, Change
from allocations.services.ledger import allocation_adjust
from proposals.calls.audit import audit_record
from tests.allocation_factories import make_allocation
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded

pytestmark = pytest.mark.django_db


def url(call) -> str:
    return reverse("call_audit", args=[call.pk])


@pytest.fixture
def allocation(pi, booster, manager):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000}, by=manager)
    allocation_adjust(
        allocation=allocation,
        resource=booster,
        amount=Decimal(-2_000),
        reason="Half a month of downtime refunded wrongly.",
        by=manager,
    )
    return allocation


def test_the_trail_newest_first_with_who_what_before_and_after(manager_client, allocation, manager):
    call = allocation.proposal.call

    response = manager_client.get(url(call))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.entry.action, r.entry.actor, r.subject) for r in rows] == [
        ("allocation.adjusted", manager, allocation.account),
        ("allocation.created", manager, allocation.account),
    ]
    assert rows[0].subject_url == reverse("manage_allocation", args=[allocation.pk])
    assert rows[0].changes == [
        Change("amount", "", "-2000"),
        Change("balance", "12000", "10000"),
        Change("entry", "", str(rows[0].entry.after["entry"])),
        Change("reason", "", "Half a month of downtime refunded wrongly."),
        Change("resource", "jupiter-booster", "jupiter-booster"),
    ]
    assert rows[1].changes == [
        Change("account", "", allocation.account),
        Change("awarded", "", '{"jupiter-booster": "12000.00"}'),
    ]
    html = response.content.decode()
    assert "<del>12000</del> → <ins>10000</ins>" in html
    assert "Marta Manager" in html
    assert "2 recorded changes, newest first" in html


def test_a_proposal_is_named_by_its_reference_and_linked(manager_client, allocation, pi):
    proposal = allocation.proposal
    audit_record(
        subject=proposal,
        action="proposal.submitted",
        actor=pi,
        call=proposal.call,
        before={"status": "draft"},
        after={"status": "submitted"},
    )

    row = manager_client.get(url(proposal.call)).context["rows"][0]

    assert (row.subject, row.subject_url, row.changes) == (
        proposal.reference,
        reverse("proposal_detail", args=[proposal.pk]),
        # recorded as the states' codes, read as their names
        [Change("status", "Draft", "Submitted")],
    )


def test_other_calls_entries_are_not_shown(manager_client, allocation, coi, booster):
    other = make_allocation(pi=coi, awarded={booster: 10})

    rows = manager_client.get(url(allocation.proposal.call)).context["rows"]

    assert other.account not in {row.subject for row in rows}
    assert len(rows) == 2


def test_the_trail_is_paginated(manager_client, allocation, manager):
    call = allocation.proposal.call
    for n in range(AUDIT_PAGE_SIZE):
        audit_record(subject=call, action="call.edited", actor=manager, call=call, after={"n": n})

    first = manager_client.get(url(call))
    second = manager_client.get(url(call), {"page": 2})

    assert len(first.context["rows"]) == AUDIT_PAGE_SIZE
    assert first.context["rows"][0].entry.after == {"n": AUDIT_PAGE_SIZE - 1}
    assert [r.entry.action for r in second.context["rows"]] == [
        "allocation.adjusted",
        "allocation.created",
    ]
    assert 'rel="next"' in first.content.decode()
    assert second.context["rows"][0].subject == allocation.account
    call_row = first.context["rows"][0]
    assert (call_row.subject, call_row.subject_url) == (
        call.code,
        reverse("manage_call_edit", args=[call.pk]),
    )


def test_the_page_runs_the_same_queries_for_few_and_many_entries(
    manager_client, allocation, manager, pi
):
    call = allocation.proposal.call
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url(call))
    for n in range(10):
        audit_record(subject=allocation.proposal, action="x", actor=pi, call=call, after={"n": n})
        audit_record(subject=allocation, action="y", actor=manager, call=call)
    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(url(call))

    assert len(response.context["rows"]) == 22
    assert len(few) + 1 == len(many)  # the proposals' names: one query more, whatever their number


def test_nothing_recorded(manager_client):
    call = make_call()

    response = manager_client.get(url(call))

    assert response.status_code == 200
    assert "Nothing recorded yet." in response.content.decode()


def test_the_trail_is_for_call_managers_only(client, allocation, pi):
    assert_guarded(client, pi, url(allocation.proposal.call))


def test_an_unknown_call_is_404(manager_client):
    assert manager_client.get(reverse("call_audit", args=[99999])).status_code == 404


def test_the_trail_refuses_post(manager_client, allocation):
    assert manager_client.post(url(allocation.proposal.call)).status_code == 405


def test_keys_and_states_read_in_the_readers_language(manager_client, allocation, pi):
    """Entries keep the English they were written in; the trail reads them in German."""
    proposal = allocation.proposal
    audit_record(
        subject=proposal,
        action="proposal.submitted",
        actor=pi,
        call=proposal.call,
        before={"status": "Draft", "new_end": ""},
        after={"status": "submitted", "new_end": "2027-05-01", "budget: GPU": "Ada Lovelace"},
    )

    row = manager_client.get(url(proposal.call)).context["rows"][0]

    with translation.override("de"):
        assert row.changes == [
            Change(gettext("budget: %(resource)s") % {"resource": "GPU"}, "", "Ada Lovelace"),
            Change(gettext("new end date"), "", "2027-05-01"),
            Change(gettext("status"), gettext("Draft"), gettext("Submitted")),
        ]
        assert "status" not in {gettext("status"), gettext("Draft").lower()}
