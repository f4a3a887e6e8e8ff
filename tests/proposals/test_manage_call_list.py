"""The managers' list of every call."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.calls.services import call_role_add
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded

URL = reverse("manage_call_list")


def test_manager_sees_every_call_with_status_and_counts(manager_client, manager):
    open_call = make_call("OPEN 2027-1")
    make_call(
        "OLD 2025-1",
        opens_in=timedelta(days=-700),
        closes_in=timedelta(days=-600),
        archived_at=timezone.now(),
    )
    call_role_add(call=open_call, email="a@x.example", role="reviewer", by=manager)
    call_role_add(call=open_call, email="b@x.example", role="reviewer", by=manager)
    call_role_add(call=open_call, email="c@x.example", role="committee", by=manager)

    response = manager_client.get(URL)

    assert response.status_code == 200
    calls = {call.code: call for call in response.context["calls"]}
    assert set(calls) == {"OPEN 2027-1", "OLD 2025-1"}
    assert (calls["OPEN 2027-1"].resource_count, calls["OPEN 2027-1"].committee_count) == (1, 1)
    assert calls["OPEN 2027-1"].reviewer_count == 2
    html = response.content.decode()
    assert '<span class="badge badge-open">Open</span>' in html
    assert '<span class="badge badge-archived">Archived</span>' in html
    assert reverse("manage_call_edit", args=[open_call.pk]) in html
    assert reverse("manage_call_dashboard", args=[open_call.pk]) in html
    assert reverse("manage_call_proposals", args=[open_call.pk]) in html


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    assert_guarded(client, pi, URL)


def test_post_is_not_allowed(manager_client):
    assert manager_client.post(URL).status_code == 405


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_calls(manager_client, manager):
    first = make_call("A 2027-1")
    call_role_add(call=first, email="r@x.example", role="reviewer", by=manager)
    one = _count_queries(manager_client)

    for code in ("B 2027-2", "C 2028-1"):
        call = make_call(code)
        call_role_add(call=call, email="r@x.example", role="reviewer", by=manager)
    three = _count_queries(manager_client)

    assert one == three
