"""The "create next cycle" button (POST only)."""

from django.contrib.messages import get_messages
from django.urls import reverse

from proposals.calls.models import Call
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded


def url(call) -> str:
    return reverse("manage_call_next_cycle", args=[call.pk])


def test_next_cycle_opens_the_new_calls_edit_page(manager_client):
    call = make_call("JUPITER 2027-1")

    response = manager_client.post(url(call))

    new = Call.objects.get(code="JUPITER 2027-2")
    assert response.status_code == 302
    assert response["Location"] == reverse("manage_call_edit", args=[new.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Call JUPITER 2027-2 created from JUPITER 2027-1: check its dates and settings."
    ]


def test_a_taken_code_is_refused_with_a_message(manager_client):
    call = make_call("JUPITER 2027-1")
    make_call("JUPITER 2027-2")

    response = manager_client.post(url(call))

    assert response.status_code == 302
    assert response["Location"] == reverse("manage_call_list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The next cycle's code “JUPITER 2027-2” is already taken by another call."
    ]
    assert Call.objects.count() == 2


def test_get_is_not_allowed(manager_client):
    assert manager_client.get(url(make_call())).status_code == 405


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    call = make_call()

    assert_guarded(client, pi, url(call), method="post")
    assert Call.objects.count() == 1


def test_unknown_call_is_404(manager_client):
    assert manager_client.post(reverse("manage_call_next_cycle", args=[999])).status_code == 404
