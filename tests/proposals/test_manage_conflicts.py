"""The managers' page of a call's conflicts of interest: list, filter, detect (§5.1)."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.selectors.conflicts import CONFLICTS_PAGE_SIZE
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, complete_proposal
from tests.proposals.helpers import assert_guarded


@pytest.fixture
def call(db):
    return make_call()


def submitted(call, pi, acronym: str, **fields):
    fields.setdefault("pi_affiliation", pi.affiliation)
    proposal = complete_proposal(call, pi, acronym=acronym, **fields)
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def proposal(call, pi):
    return submitted(call, pi, "SPARSE-MOE")


def conflict(proposal, reviewer, status, reason=ConflictReason.AFFILIATION, **fields):
    return Conflict.objects.create(
        proposal=proposal, reviewer=reviewer, reason=reason, status=status, **fields
    )


def url(call, query: str = "") -> str:
    return reverse("manage_conflicts", args=[call.pk]) + query


def headings(response) -> list[str]:
    """The status groups shown, in order."""
    return re.findall(r'id="conflicts-(\w+)-heading"', response.content.decode())


def reviewers_listed(response) -> list[str]:
    return re.findall(r'data-label="Reviewer"><div>([^<]+)<br>', response.content.decode())


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_conflicts_are_grouped_by_status_with_the_undecided_first(
    client, manager, call, proposal, reviewer, committee, outsider, coi
):
    conflict(
        proposal, outsider, ConflictStatus.DISMISSED, decided_by=manager, decided_at=timezone.now()
    )
    conflict(
        proposal, committee, ConflictStatus.CONFIRMED, decided_by=manager, decided_at=timezone.now()
    )
    conflict(proposal, coi, ConflictStatus.DECLARED, ConflictReason.DECLARED, detail="Old friends.")
    conflict(
        proposal,
        reviewer,
        ConflictStatus.DETECTED,
        detail="Same affiliation as the PI, Paula Investigator: Uni Example.",
    )
    client.force_login(manager)

    response = client.get(url(call))

    assert response.status_code == 200
    assert headings(response) == ["detected", "declared", "confirmed", "dismissed"]
    assert reviewers_listed(response) == [
        "Rita Reviewer",
        "Carl Coinvestigator",
        "Conrad Committee",
        "Otto Outsider",
    ]
    html = response.content.decode()
    assert html.count('name="decision" value="confirm"') == 1
    assert html.count('name="decision" value="dismiss"') == 1
    detected = Conflict.objects.get(reviewer=reviewer)
    assert f'action="{reverse("conflict_decide", args=[detected.pk])}"' in html
    assert proposal.reference in html
    assert "SPARSE-MOE" in html
    assert "Inst Example" in html  # the reviewer's affiliation
    assert "Same affiliation as the PI, Paula Investigator: Uni Example." in html
    assert "Old friends." in html
    assert "Declared by the reviewer" in html  # the reason of the declared one
    assert "by Marta Manager" in html
    assert "Has an active review" not in html


def test_the_filter_shows_one_status_and_counts_every_status(
    client, manager, call, proposal, reviewer, committee, outsider
):
    conflict(proposal, reviewer, ConflictStatus.DETECTED)
    conflict(proposal, committee, ConflictStatus.DETECTED, ConflictReason.EXCLUDED)
    conflict(proposal, outsider, ConflictStatus.CONFIRMED)
    client.force_login(manager)

    response = client.get(url(call, "?status=confirmed"))

    assert headings(response) == ["confirmed"]
    assert reviewers_listed(response) == ["Otto Outsider"]
    links = re.findall(
        r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+) <span class="count">\((\d+)\)',
        response.content.decode(),
    )
    base = url(call)
    assert links == [
        (base, "", "All", "3"),
        (f"{base}?status=detected", "", "Detected, to be checked", "2"),
        (f"{base}?status=declared", "", "Declared by the reviewer", "0"),
        (f"{base}?status=confirmed", ' aria-current="page"', "Confirmed", "1"),
        (f"{base}?status=dismissed", "", "Dismissed", "0"),
        (f"{base}?status=withdrawn", "", "Withdrawn: its cause is gone", "0"),
    ]


def test_an_unknown_status_shows_everything(client, manager, call, proposal, reviewer, outsider):
    conflict(proposal, reviewer, ConflictStatus.DETECTED)
    conflict(proposal, outsider, ConflictStatus.CONFIRMED)
    client.force_login(manager)

    response = client.get(url(call, "?status=nonsense"))

    assert response.status_code == 200
    assert headings(response) == ["detected", "confirmed"]


def test_an_empty_status_says_so(client, manager, call, proposal, reviewer):
    conflict(proposal, reviewer, ConflictStatus.DETECTED)
    client.force_login(manager)

    response = client.get(url(call, "?status=dismissed"))

    assert headings(response) == []
    assert "No conflicts of interest with this status." in response.content.decode()


def test_a_call_without_conflicts(client, manager, call):
    client.force_login(manager)
    response = client.get(url(call))
    assert headings(response) == []
    assert "No conflicts of interest recorded for this call yet." in response.content.decode()


def test_a_detected_conflict_with_an_active_review_warns_before_confirming(
    client, manager, call, proposal, reviewer
):
    conflict(proposal, reviewer, ConflictStatus.DETECTED)
    Review.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        state=ReviewState.ACCEPTED,
        due_at=timezone.now() + timedelta(days=20),
    )
    client.force_login(manager)

    response = client.get(url(call))

    assert response.content.decode().count("Has an active review: confirming removes it.") == 1


def test_conflicts_of_other_calls_are_not_listed(client, manager, call, proposal, reviewer, pi):
    elsewhere = submitted(make_call("JUPITER 2027-2"), pi, "ELSEWHERE")
    conflict(elsewhere, reviewer, ConflictStatus.DETECTED)
    client.force_login(manager)

    response = client.get(url(call))

    assert headings(response) == []


def test_detect_now_records_the_new_conflicts_and_says_how_many(
    client, manager, call, pi, reviewer
):
    proposal = submitted(call, pi, "SPARSE-MOE", excluded_reviewers="Rita Reviewer")
    add_call_role(call, pi, role=CallRoleKind.REVIEWER)
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    client.force_login(manager)

    response = client.post(url(call), follow=True)

    assert response.redirect_chain == [(url(call), 302)]
    assert texts(response) == ["2 new conflicts detected."]
    assert headings(response) == ["detected"]
    assert set(Conflict.objects.values_list("proposal_id", "reviewer_id", "reason", "status")) == {
        (proposal.pk, pi.pk, "team", "detected"),
        (proposal.pk, reviewer.pk, "excluded", "detected"),
    }

    response = client.post(url(call), follow=True)

    assert texts(response) == ["0 new conflicts detected."]
    assert Conflict.objects.count() == 2


def test_detect_now_with_one_new_conflict(client, manager, call, pi):
    submitted(call, pi, "SPARSE-MOE")
    add_call_role(call, pi, role=CallRoleKind.TECHNICAL)
    client.force_login(manager)

    response = client.post(url(call))

    assert texts(response) == ["1 new conflict detected."]


def test_guards(client, pi, call):
    assert_guarded(client, pi, url(call))


def test_guards_of_detect_now(client, pi, call):
    add_call_role(call, pi, role=CallRoleKind.REVIEWER)
    submitted(call, pi, "SPARSE-MOE")
    Conflict.objects.all().delete()  # what the submission detected; the page's POST must not

    assert_guarded(client, pi, url(call), method="post")
    assert Conflict.objects.count() == 0


def test_reviewers_and_committee_members_are_not_managers(client, call, reviewer, committee):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    add_call_role(call, committee, role=CallRoleKind.COMMITTEE)
    for person in (reviewer, committee):
        client.force_login(person)
        assert client.get(url(call)).status_code == 403
        assert client.post(url(call)).status_code == 403


def test_an_unknown_call_is_404(client, manager, call):
    client.force_login(manager)
    assert client.get(reverse("manage_conflicts", args=[call.pk + 1000])).status_code == 404
    assert client.post(reverse("manage_conflicts", args=[call.pk + 1000])).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_methods(client, manager, call, method):
    client.force_login(manager)
    assert getattr(client, method)(url(call)).status_code == 405


def test_constant_queries_with_one_and_three_conflicts(
    client, manager, call, proposal, pi, coi, reviewer, committee
):
    client.force_login(manager)
    conflict(proposal, reviewer, ConflictStatus.DETECTED)
    with CaptureQueriesContext(connection) as one:
        first = client.get(url(call))
    second_proposal = submitted(call, coi, "SECOND")
    conflict(second_proposal, committee, ConflictStatus.CONFIRMED, decided_by=manager)
    conflict(proposal, committee, ConflictStatus.DECLARED, ConflictReason.DECLARED)
    with CaptureQueriesContext(connection) as three:
        second = client.get(url(call))

    assert len(reviewers_listed(first)) == 1
    assert len(reviewers_listed(second)) == 3
    assert len(three) == len(one)


def test_a_page_of_conflicts_at_a_time_with_the_undecided_first(
    client, manager, call, proposal, pi
):
    """A call's first detection finds tens of thousands of pairs: the page builds one page of
    rows, the undecided first, and counts the rest in the query."""
    reviewers = [
        make_user(f"r{i:02d}@pool.example", full_name=f"Reviewer {i:02d}")
        for i in range(CONFLICTS_PAGE_SIZE + 5)
    ]
    for i, person in enumerate(reviewers):
        status = ConflictStatus.CONFIRMED if i < 3 else ConflictStatus.DETECTED
        conflict(proposal, person, status, decided_by=manager if i < 3 else None)
    client.force_login(manager)

    first = client.get(url(call))
    last = client.get(url(call, "?page=2"))

    # 52 detected (the first 50 on page 1), then 2 more detected and the 3 confirmed on page 2
    assert reviewers_listed(first) == [f"Reviewer {i:02d}" for i in range(3, 53)]
    assert headings(first) == ["detected"]
    assert reviewers_listed(last) == [f"Reviewer {i:02d}" for i in (53, 54, 0, 1, 2)]
    assert headings(last) == ["detected", "confirmed"]
    # the group's count is the whole call's, not the page's
    assert '<span class="count">(52)</span></h2>' in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()
    assert len(first.context["listing"].page_obj.object_list) == CONFLICTS_PAGE_SIZE
