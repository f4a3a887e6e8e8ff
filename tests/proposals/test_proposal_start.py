"""Starting a proposal from an open call's page."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from proposals.calls.models import Call
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_start
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import DEADLINE, make_call_closing
from tests.proposals.helpers import login_url_for


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def closed(db) -> Call:
    return make_call("JUPITER 2026-2", opens_in=timedelta(days=-60), closes_in=timedelta(days=-1))


def url(call: Call) -> str:
    return reverse("proposal_start", args=[call.pk])


def test_a_draft_is_started_with_the_pi_and_their_affiliation(call, pi):
    proposal = proposal_start(call=call, by=pi)

    proposal.refresh_from_db()
    assert (
        proposal.call,
        proposal.pi,
        proposal.status,
        proposal.reference,
        proposal.pi_affiliation,
        proposal.pi_country.code,
        proposal.title,
    ) == (call, pi, ProposalStatus.DRAFT, None, "Uni Example", "DE", "")


def test_a_closed_call_takes_no_new_proposals(closed, pi):
    with pytest.raises(ValidationError) as refusal:
        proposal_start(call=closed, by=pi)

    assert refusal.value.messages == [
        "The call JUPITER 2026-2 is closed and no longer accepts proposals."
    ]
    assert Proposal.objects.count() == 0


def test_an_upcoming_call_says_when_it_opens(db, pi):
    upcoming = make_call_closing(opens_at=DEADLINE - timedelta(days=30))

    with pytest.raises(ValidationError) as refusal:
        proposal_start(call=upcoming, by=pi)

    assert refusal.value.messages == [
        "The call JUPITER 2027-1 opens on 16 Dec 2098, 17:00 CET (Europe/Berlin); you can "
        "start a proposal then."
    ]


def test_an_incomplete_profile_is_named(call):
    person = make_user("new@uni.example", complete=False)

    with pytest.raises(ValidationError) as refusal:
        proposal_start(call=call, by=person)

    assert refusal.value.messages == [
        "Please complete your profile first. Still missing: affiliation, country and at least "
        "one field of expertise."
    ]
    assert Proposal.objects.count() == 0


def test_the_button_starts_a_draft_and_opens_its_first_section(client, call, pi):
    client.force_login(pi)

    response = client.post(url(call))

    proposal = Proposal.objects.get()
    assert (proposal.pi, proposal.call) == (pi, call)
    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_edit", args=[proposal.pk, "general"])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your draft proposal to JUPITER 2027-1 is started. Nothing is sent until you submit it."
    ]


def test_a_closed_call_sends_you_back_with_a_message(client, closed, pi):
    client.force_login(pi)

    response = client.post(url(closed))

    assert response.status_code == 302
    assert response["Location"] == reverse("call_detail", args=[closed.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The call JUPITER 2026-2 is closed and no longer accepts proposals."
    ]
    assert Proposal.objects.count() == 0


def test_an_incomplete_profile_is_sent_to_the_profile(client, call):
    client.force_login(make_user("new@uni.example", complete=False))

    response = client.post(url(call), HTTP_REFERER=f"http://testserver/calls/{call.pk}/")

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('profile')}?next=http%3A%2F%2Ftestserver%2Fcalls%2F{call.pk}%2F"
    )
    assert Proposal.objects.count() == 0


def test_anonymous_people_are_sent_to_sign_in(client, call):
    response = client.post(url(call))

    assert (response.status_code, response["Location"]) == (302, login_url_for(url(call)))


def test_an_unknown_call_is_not_found(client, pi):
    client.force_login(pi)

    assert client.post(reverse("proposal_start", args=[999])).status_code == 404


def test_starting_accepts_only_post(client, call, pi):
    client.force_login(pi)

    assert client.get(url(call)).status_code == 405
    assert Proposal.objects.count() == 0


# --- The call page and the navigation ------------------------------------------------------


def test_an_open_call_offers_signed_in_people_to_start(client, call, pi):
    client.force_login(pi)

    html = client.get(reverse("call_detail", args=[call.pk])).content.decode()

    assert f'<form method="post" action="{url(call)}" class="stack-form">' in html
    assert '<button type="submit">Start a proposal</button>' in html
    assert f'<a href="{reverse("my_proposals")}" >My proposals</a>' in html


def test_an_open_call_asks_anonymous_people_to_sign_in(client, call):
    html = client.get(reverse("call_detail", args=[call.pk])).content.decode()

    detail = reverse("call_detail", args=[call.pk])
    assert f'href="{reverse("account_login")}?next={detail}">Sign in to apply</a>' in html
    assert "Start a proposal" not in html
    assert "My proposals" not in html


def test_a_closed_call_offers_nothing(client, closed, pi):
    client.force_login(pi)

    html = client.get(reverse("call_detail", args=[closed.pk])).content.decode()

    assert "Start a proposal" not in html
    assert "Sign in to apply" not in html
