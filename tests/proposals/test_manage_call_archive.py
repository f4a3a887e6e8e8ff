"""Archiving a call by hand: gone from the public list, still readable by its address."""

from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallStatus
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded


def url(call) -> str:
    return reverse("manage_call_archive", args=[call.pk])


def test_archiving_hides_the_call_from_the_public_list(manager_client, client):
    call = make_call()

    response = manager_client.post(url(call), {"archive": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("manage_call_list")
    call.refresh_from_db()
    assert call.status == CallStatus.ARCHIVED
    listing = manager_client.get(reverse("call_list"))
    assert list(listing.context["current"]) == []
    assert list(listing.context["past"]) == []
    assert manager_client.get(reverse("call_detail", args=[call.pk])).status_code == 200


def test_unarchiving_brings_the_status_back_to_the_clock(manager_client):
    call = make_call(archived_at=timezone.now())

    manager_client.post(url(call), {"archive": "0"})

    call.refresh_from_db()
    assert (call.archived_at, call.status) == (None, CallStatus.OPEN)


def test_archiving_twice_keeps_the_first_time(manager_client):
    call = make_call()
    manager_client.post(url(call), {"archive": "1"})
    call.refresh_from_db()
    first = call.archived_at

    manager_client.post(url(call), {"archive": "1"})

    call.refresh_from_db()
    assert call.archived_at == first


def test_a_missing_choice_is_a_bad_request(manager_client):
    call = make_call()

    assert manager_client.post(url(call)).status_code == 400
    call.refresh_from_db()
    assert call.archived_at is None


def test_get_is_not_allowed(manager_client):
    assert manager_client.get(url(make_call())).status_code == 405


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    call = make_call()

    assert_guarded(client, pi, url(call), method="post")
    call.refresh_from_db()
    assert call.archived_at is None


def test_unknown_call_is_404(manager_client):
    assert (
        manager_client.post(
            reverse("manage_call_archive", args=[999]), {"archive": "1"}
        ).status_code
        == 404
    )
