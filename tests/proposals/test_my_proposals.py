"""A researcher's proposals, what each draft still misses, and invitations waiting."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.calls.models import Call
from proposals.submission.enums import TeamStatus
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.proposal_factories import (
    add_member,
    complete_proposal,
    make_call_closing,
    make_proposal,
)
from tests.proposals.helpers import login_url_for

URL = reverse("my_proposals")


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


def titles(html: str) -> list[str]:
    """The linked names of the listed proposals, in order."""
    return [re.search(r'<a href="/proposals/\d+/">([^<]*)</a>', row)[1] for row in rows(html)]


def rows(html: str) -> list[str]:
    """The table's body rows, whitespace folded, for exact comparisons."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(row.split()) for row in body.split("<tr>")[1:]]


def test_lists_what_i_lead_and_what_i_joined_but_nothing_else(client, call, pi, coi, outsider):
    make_proposal(call, pi, title="Mine")
    joined = make_proposal(call, coi, title="Joined")
    add_member(joined, pi)
    invited = make_proposal(call, coi, title="Only invited", acronym="INV")
    add_member(invited, email=pi.email, status=TeamStatus.INVITED)
    declined = make_proposal(call, coi, title="Declined")
    add_member(declined, pi, status=TeamStatus.DECLINED)
    make_proposal(call, outsider, title="Someone else's")
    client.force_login(pi)

    html = client.get(URL).content.decode()

    assert sorted(titles(html)) == ["Joined", "Mine"]
    assert "led by Carl Coinvestigator" in rows(html)[titles(html).index("Joined")]
    assert "led by" not in rows(html)[titles(html).index("Mine")]


def test_a_draft_names_what_is_missing_then_how_many_more(client, call, pi):
    draft = make_proposal(call, pi)
    client.force_login(pi)

    [row] = rows(client.get(URL).content.decode())

    detail = reverse("proposal_detail", args=[draft.pk])
    assert f'<a href="{detail}">Untitled draft</a>' in row
    assert '<span class="badge badge-draft">Draft</span>' in row
    assert "15 Jan 2099, 17:00 CET (Europe/Berlin)" in row
    assert "Missing: title, acronym, abstract, and 10 more" in row


def test_a_complete_draft_and_a_submitted_proposal(client, call, pi):
    complete_proposal(call, pi, title="Ready", acronym="READY")
    sent = complete_proposal(call, pi, title="Sent", acronym="SENT")
    proposal_submit(proposal=sent, by=pi)
    client.force_login(pi)

    html = client.get(URL).content.decode()

    by_title = dict(zip(titles(html), rows(html), strict=True))
    assert "Nothing: ready to submit" in by_title["READY: Ready"]
    assert '<span class="reference">JUP27-1-0001</span>' in by_title["SENT: Sent"]
    assert '<span class="badge badge-submitted">Submitted</span>' in by_title["SENT: Sent"]
    assert "Missing" not in by_title["SENT: Sent"]


def test_invitations_to_any_of_my_verified_addresses_are_listed(client, call, pi, coi):
    EmailAddress.objects.create(user=pi, email="paula@home.example", verified=True)
    EmailAddress.objects.create(user=pi, email="paula@unverified.example", verified=False)
    to_primary = make_proposal(call, coi, title="To primary")
    first = add_member(to_primary, email="PI@uni.example", status=TeamStatus.INVITED)
    to_home = make_proposal(call, coi, title="To home")
    second = add_member(to_home, email="paula@home.example", status=TeamStatus.INVITED)
    unverified = make_proposal(call, coi, title="To unverified")
    add_member(unverified, email="paula@unverified.example", status=TeamStatus.INVITED)
    client.force_login(pi)

    html = client.get(URL).content.decode()

    for member, title in [(first, "To primary"), (second, "To home")]:
        assert f"Carl Coinvestigator invited you to join “{title}” (JUPITER 2027-1)." in html, title
        assert f'<a href="{reverse("invitation", args=[member.token])}">' in html
    assert "To unverified" not in html


def test_no_proposals_says_where_to_start(client, pi):
    client.force_login(pi)

    html = client.get(URL).content.decode()

    assert "You have no proposals yet. Open a call to start one." in html
    assert "Invitations waiting for you" not in html


def test_the_list_reads_in_the_same_number_of_queries_for_one_or_three(client, call, pi, coi):
    def count() -> int:
        client.force_login(pi)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    first = make_proposal(call, pi, title="One")
    add_member(first, coi)
    one = count()
    complete_proposal(call, pi, acronym="TWO")
    other = make_proposal(call, coi, title="Three")
    add_member(other, pi)
    add_member(make_proposal(call, coi), email=pi.email, status=TeamStatus.INVITED)
    add_member(make_proposal(call, make_user("x@y.example")), email=pi.email, status="invited")

    three = count()

    assert one == three


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(URL)

    assert (response.status_code, response["Location"]) == (302, login_url_for(URL))


def test_the_list_accepts_only_get(client, pi):
    client.force_login(pi)

    assert client.post(URL).status_code == 405
