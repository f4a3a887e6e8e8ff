"""The overview of one proposal: where it stands, what is missing, versions and actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import Call
from proposals.review.models import Review
from proposals.review.services.reviewing import review_accept
from proposals.submission.enums import TeamStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_member,
    complete_proposal,
    make_call_closing,
    make_proposal,
)
from tests.proposals.helpers import login_url_for
from tests.proposals.reviewing_factories import assign

SUBMIT = "Submit</button>"
UNSUBMIT = "Take back to draft</button>"
WITHDRAW = "Withdraw…</button>"


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def draft(call, pi, coi) -> Proposal:
    draft = make_proposal(call, pi, title="Half done", acronym="HALF")
    add_member(draft, coi)
    return draft


def url(proposal: Proposal) -> str:
    return reverse("proposal_detail", args=[proposal.pk])


def page(client, user, proposal: Proposal) -> str:
    client.force_login(user)
    response = client.get(url(proposal))
    assert response.status_code == 200
    return response.content.decode()


def actions(html: str) -> list[str]:
    return [label for label in (SUBMIT, UNSUBMIT, WITHDRAW) if label in html]


def test_a_draft_shows_each_section_with_its_problems_linked_to_the_field(client, draft, pi):
    html = page(client, pi, draft)

    general = reverse("proposal_edit", args=[draft.pk, "general"])
    technical = reverse("proposal_edit", args=[draft.pk, "technical"])
    attachments = reverse("proposal_attachments", args=[draft.pk])
    assert "11 things still stop this proposal from being submitted." in html
    for expected in [
        '<span class="badge badge-draft">Draft</span>',
        "Given at the first submission",
        f'<a href="{general}#id_abstract">Fill in “Abstract”.</a>',
        f'<a href="{general}#id_keywords">Fill in “Keywords”.</a>',
        f'<a href="{technical}#id_storage">Fill in “Storage and data management”.</a>',
        f'<a href="{attachments}#id_description">Upload the project description (PDF).</a>',
        "<dt>Title</dt><dd>Half done</dd>",
        "Carl Coinvestigator · co-investigator",
        "Not submitted yet.",
    ]:
        assert expected in html, expected
    assert "Fill in “Title”." not in html
    assert actions(html) == [SUBMIT, WITHDRAW]
    assert 'class="error-summary"' not in html


def test_a_complete_draft_says_so(client, call, pi):
    html = page(client, pi, complete_proposal(call, pi))

    assert "Every section is complete." in html
    assert "is required" not in html


def test_pending_invitations_are_named_as_a_warning(client, draft, pi):
    add_member(draft, email="late@else.example", status=TeamStatus.INVITED)

    html = page(client, pi, draft)

    assert "One invitation has not been answered yet:\n        late@else.example." in html
    assert "You can submit without them." in html


def test_a_submitted_proposal_shows_its_reference_versions_and_take_back(client, call, pi):
    proposal = complete_proposal(call, pi)
    proposal_submit(proposal=proposal, by=pi, now=DEADLINE - timedelta(days=2))

    html = page(client, pi, proposal)

    version_link = reverse("proposal_version", args=[proposal.pk, 1])
    for expected in [
        '<span class="reference">JUP27-1-0001</span>',
        '<span class="badge badge-submitted">Submitted</span>',
        f'<a href="{version_link}">Version 1</a>',
        "13 Jan 2099, 17:00 CET (Europe/Berlin)",
        '<td data-label="By">Paula Investigator</td>',
    ]:
        assert expected in html, expected
    assert actions(html) == [UNSUBMIT, WITHDRAW]
    assert "is required" not in html


def test_after_the_deadline_a_draft_is_read_only_for_its_team(client, draft, pi):
    Call.objects.filter(pk=draft.call_id).update(closes_at=timezone.now() - timedelta(hours=1))

    html = page(client, pi, draft)

    assert "this draft can no longer be changed or submitted" in html
    assert actions(html) == [WITHDRAW]


def test_a_co_investigator_sees_the_overview_without_submit_or_withdraw(client, draft, coi):
    html = page(client, coi, draft)

    assert actions(html) == []
    general = reverse("proposal_edit", args=[draft.pk, "general"])
    assert f'<a href="{general}#id_abstract">Fill in “Abstract”.</a>' in html


def test_a_manager_reads_a_draft_without_any_action(client, draft, manager):
    html = page(client, manager, draft)

    assert actions(html) == []
    assert "<form" not in html.split('class="proposal-body"')[1].split("</main>")[0]
    assert "Fill in “Abstract”." in html
    assert "#id_abstract" not in html


def test_the_committee_does_not_see_a_draft(client, draft, call, committee):
    add_call_role(call, committee)
    client.force_login(committee)

    assert client.get(url(draft)).status_code == 404


def test_the_committee_reads_a_submitted_proposal_without_any_action(client, call, pi, committee):
    proposal = complete_proposal(call, pi)
    proposal_submit(proposal=proposal, by=pi)
    add_call_role(call, committee)

    html = page(client, committee, proposal)

    assert actions(html) == []
    assert proposal.title in html
    assert "<form" not in html.split('class="proposal-body"')[1].split("</main>")[0]


@pytest.mark.parametrize(
    ("state", "link", "says"),
    [
        ("invited", "review_detail", "You are invited to review this proposal."),
        ("accepted", "review_edit", "You are reviewing this proposal."),
        ("submitted", "review_edit", "You submitted your review on "),
    ],
)
def test_a_reviewer_is_told_where_their_review_stands_and_led_back_to_it(
    client, call, pi, reviewer, state, link, says
):
    proposal = complete_proposal(call, pi)
    proposal_submit(proposal=proposal, by=pi)
    review = assign(proposal, reviewer)
    if state != "invited":
        review_accept(review=review, by=reviewer)
    if state == "submitted":
        Review.objects.filter(pk=review.pk).update(state=state, submitted_at=timezone.now())

    html = page(client, reviewer, proposal)

    assert says in html
    assert html.count(f'href="{reverse(link, args=[review.pk])}"') == 2  # note and sidebar
    assert ("1 Mar 2099, 17:00 CET" in html) is (state != "submitted")  # the due date


def test_the_team_is_not_told_about_reviews(client, call, pi):
    proposal = complete_proposal(call, pi)
    proposal_submit(proposal=proposal, by=pi)

    html = page(client, pi, proposal)

    assert "review-note" not in html
    assert "sidebar-review" not in html


@pytest.mark.parametrize("who", ["outsider", "reviewer"])
def test_anyone_else_is_told_nothing_exists(client, request, draft, call, who):
    person = request.getfixturevalue(who)
    add_call_role(call, person, role="reviewer")  # even the call's reviewer pool
    client.force_login(person)

    assert client.get(url(draft)).status_code == 404


def test_anonymous_readers_are_sent_to_sign_in(client, draft):
    response = client.get(url(draft))

    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(draft))


def test_the_overview_accepts_only_get(client, draft, pi):
    client.force_login(pi)

    assert client.post(url(draft)).status_code == 405


def test_the_overview_reads_in_a_fixed_number_of_queries(
    client, call, pi, coi, django_assert_max_num_queries
):
    proposal = complete_proposal(call, pi)
    add_member(proposal, coi)
    client.force_login(pi)

    with django_assert_max_num_queries(12):
        assert client.get(url(proposal)).status_code == 200
