"""Submitting a proposal: the deadline to the second, every problem at once, the reference
number and the receipt (PRODUCT §4.2)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from proposals.calls.models import Call
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, ProposalVersion
from proposals.submission.services.lifecycle import (
    DeadlinePassed,
    SubmissionRefused,
    proposal_submit,
)
from tests.conftest import make_user
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_member,
    complete_proposal,
    make_call_closing,
    make_proposal,
)
from tests.proposals.helpers import login_url_for

ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def proposal(call, pi) -> Proposal:
    return complete_proposal(call, pi)


def url(proposal: Proposal) -> str:
    return reverse("proposal_submit", args=[proposal.pk])


def _state(proposal: Proposal) -> dict:
    """Everything a refused submission must leave as it was."""
    proposal.refresh_from_db()
    return {
        **model_to_dict(proposal, exclude=["submit_attempted_at"]),
        "requests": list(
            proposal.requests.values_list("call_resource_id", "amount", "justification")
        ),
        "scaling": list(proposal.scaling.values_list("gpus", "seconds_per_step")),
        "attachments": list(proposal.attachments.values_list("id", "replaced_at")),
        "versions": proposal.versions.count(),
        "lock_version": proposal.lock_version,
        "updated_at": proposal.updated_at,
        "reference_number": proposal.reference_number,
    }


# --- The deadline, to the second -------------------------------------------------------------


def test_submit_one_second_before_the_deadline_succeeds(proposal, pi):
    now = DEADLINE - ONE_SECOND

    version = proposal_submit(proposal=proposal, by=pi, now=now)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.reference, proposal.submitted_at) == (
        ProposalStatus.SUBMITTED,
        "JUP27-1-0001",
        now,
    )
    assert (version.number, version.submitted_at, version.submitted_by) == (1, now, pi)


@pytest.mark.parametrize("late", [timedelta(0), ONE_SECOND], ids=["at-deadline", "one-second-late"])
def test_submit_at_or_after_the_deadline_is_refused_and_keeps_the_draft(proposal, pi, call, late):
    before = _state(proposal)

    with pytest.raises(DeadlinePassed) as refusal:
        proposal_submit(proposal=proposal, by=pi, now=DEADLINE + late)

    assert refusal.value.messages == [
        "The call closed on 15 Jan 2099, 17:00 CET (Europe/Berlin). Submissions are no longer "
        "accepted; your draft is kept as it was."
    ]
    assert _state(proposal) == before
    assert proposal.status == ProposalStatus.DRAFT
    assert proposal.reference is None
    assert ProposalVersion.objects.count() == 0
    call.refresh_from_db()
    assert call.last_reference_number == 0
    assert OutboxMessage.objects.count() == 0


# --- Every problem at once -------------------------------------------------------------------


def test_an_empty_draft_is_refused_with_every_problem_at_once(call, pi):
    draft = make_proposal(call, pi)
    now = timezone.now()

    with pytest.raises(SubmissionRefused) as refusal:
        proposal_submit(proposal=draft, by=pi, now=now)

    assert [(p.section, p.field) for p in refusal.value.problems] == [
        ("general", "title"),
        ("general", "acronym"),
        ("general", "abstract"),
        ("general", "field"),
        ("general", "keywords"),
        ("technical", "codes"),
        ("technical", "job_size"),
        ("technical", "wall_time"),
        ("technical", "memory"),
        ("technical", "storage"),
        ("resources", "requests"),
        ("technical", "scaling"),
        ("attachments", "description"),
    ]
    assert refusal.value.messages == [p.message for p in refusal.value.problems]


def test_a_refused_submission_keeps_everything_and_remembers_the_attempt(call, pi):
    draft = make_proposal(call, pi, title="Half done", abstract="Some words.")
    before = _state(draft)
    now = timezone.now().replace(microsecond=0)

    with pytest.raises(SubmissionRefused):
        proposal_submit(proposal=draft, by=pi, now=now)

    assert _state(draft) == before
    assert (draft.status, draft.title, draft.abstract, draft.reference) == (
        ProposalStatus.DRAFT,
        "Half done",
        "Some words.",
        None,
    )
    # Written before the refusal is raised: the section pages show problems from now on.
    assert draft.submit_attempted_at == now
    call.refresh_from_db()
    assert call.last_reference_number == 0


# --- Reference numbers -----------------------------------------------------------------------


def test_references_count_up_within_the_call_without_gaps_from_refusals(call, pi, coi):
    first = complete_proposal(call, pi)
    refused = make_proposal(call, pi)
    second = complete_proposal(call, coi, acronym="OTHER")

    proposal_submit(proposal=first, by=pi)
    with pytest.raises(SubmissionRefused):
        proposal_submit(proposal=refused, by=pi)
    proposal_submit(proposal=second, by=coi)

    first.refresh_from_db()
    second.refresh_from_db()
    call.refresh_from_db()
    assert (first.reference, first.reference_number) == ("JUP27-1-0001", 1)
    assert (second.reference, second.reference_number) == ("JUP27-1-0002", 2)
    assert call.last_reference_number == 2


def test_each_call_numbers_its_own_proposals(call, pi):
    other_call = make_call_closing(code="JUPITER 2027-2")
    proposal_submit(proposal=complete_proposal(call, pi), by=pi)

    other = complete_proposal(other_call, pi)
    proposal_submit(proposal=other, by=pi)

    assert other.reference == "JUP27-2-0001"


# --- Who may submit, and what -----------------------------------------------------------------


def test_only_the_pi_may_submit(proposal, coi, manager):
    add_member(proposal, coi)
    for person in (coi, manager):
        with pytest.raises(PermissionDenied):
            proposal_submit(proposal=proposal, by=person)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT


def test_a_submitted_proposal_cannot_be_submitted_again(proposal, pi):
    proposal_submit(proposal=proposal, by=pi)

    with pytest.raises(ValidationError) as refusal:
        proposal_submit(proposal=proposal, by=pi)

    assert refusal.value.messages == ["Only a draft can be submitted; this proposal is submitted."]
    assert proposal.versions.count() == 1


# --- The receipt -----------------------------------------------------------------------------


def test_the_receipt_goes_to_the_pi_and_accepted_co_investigators_only(
    proposal, pi, coi, mailoutbox, django_capture_on_commit_callbacks
):
    add_member(proposal, coi)
    add_member(proposal, email="invited@else.example", status=TeamStatus.INVITED)
    declined = make_user("declined@else.example")
    add_member(proposal, declined, status=TeamStatus.DECLINED)
    now = DEADLINE - timedelta(days=1, hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        proposal_submit(proposal=proposal, by=pi, now=now)

    assert sorted(m.to[0] for m in mailoutbox) == ["coi@lab.example", "pi@uni.example"]
    assert {m.subject for m in mailoutbox} == {"[Allot] Received: JUP27-1-0001 SPARSE-MOE"}
    body = mailoutbox[0].body
    for expected in [
        "Reference: JUP27-1-0001",
        "Version: 1",
        "to the call JUPITER 2027-1 (JUPITER 2027-1 call for proposals)",
        "Submitted: 14 Jan 2099, 14:00 CET (Europe/Berlin)",
        "Submitted by: Paula Investigator",
        f"{settings.SITE_URL}/proposals/{proposal.pk}/",
    ]:
        assert expected in body, expected
    assert set(
        OutboxMessage.objects.filter(kind="proposal-submitted").values_list("event", "recipient")
    ) == {
        (f"proposal-submitted:{proposal.pk}:v1", "pi@uni.example"),
        (f"proposal-submitted:{proposal.pk}:v1", "coi@lab.example"),
    }


def test_one_receipt_per_version_and_person(
    proposal, pi, mailoutbox, django_capture_on_commit_callbacks
):
    from proposals.submission.services.lifecycle import proposal_unsubmit

    with django_capture_on_commit_callbacks(execute=True):
        proposal_submit(proposal=proposal, by=pi)
        proposal_unsubmit(proposal=proposal, by=pi)
        proposal_submit(proposal=proposal, by=pi)

    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["pi@uni.example"], "[Allot] Received: JUP27-1-0001 SPARSE-MOE"),
        (["pi@uni.example"], "[Allot] Received: JUP27-1-0001 SPARSE-MOE"),
    ]
    assert ["Version: 1" in mailoutbox[0].body, "Version: 2" in mailoutbox[1].body] == [True, True]
    assert list(OutboxMessage.objects.order_by("id").values_list("event", flat=True)) == [
        f"proposal-submitted:{proposal.pk}:v1",
        f"proposal-submitted:{proposal.pk}:v2",
    ]


# --- The view --------------------------------------------------------------------------------


def test_submitting_redirects_to_the_overview_with_the_reference_and_recipients(
    client, proposal, pi, coi, mailoutbox, django_capture_on_commit_callbacks
):
    add_member(proposal, coi)
    client.force_login(pi)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(proposal))

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_detail", args=[proposal.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Submitted. Reference JUP27-1-0001. A receipt is on its way to pi@uni.example and "
        "coi@lab.example."
    ]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    assert len(mailoutbox) == 2


def test_a_refused_submission_shows_every_problem_beside_its_section(client, call, pi):
    draft = make_proposal(call, pi, title="Kept title")
    client.force_login(pi)

    response = client.post(url(draft))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Fix these 12 problems, then submit again. Everything you entered is kept." in html
    edit = reverse("proposal_edit", args=[draft.pk, "general"])
    technical = reverse("proposal_edit", args=[draft.pk, "technical"])
    resources = reverse("proposal_edit", args=[draft.pk, "resources"])
    attachments = reverse("proposal_attachments", args=[draft.pk])
    for link in [
        f'<a href="{edit}#id_acronym">Fill in “Acronym”.</a>',
        f'<a href="{edit}#id_field">Fill in “Field of science”.</a>',
        f'<a href="{technical}#id_codes">Fill in “Codes and versions”.</a>',
        f'<a href="{technical}#id_scaling">',
        f'<a href="{resources}#id_requests">Request an amount of at least one resource.</a>',
        f'<a href="{attachments}#id_description">Upload the project description (PDF).</a>',
    ]:
        assert link in html, link
    assert "Fill in “Title”." not in html
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (ProposalStatus.DRAFT, "Kept title")
    assert draft.submit_attempted_at is not None


def test_a_submission_after_the_deadline_shows_why_and_keeps_the_draft(client, proposal, pi):
    Call.objects.filter(pk=proposal.call_id).update(
        closes_at=timezone.now().replace(microsecond=0) - ONE_SECOND
    )
    client.force_login(pi)

    response = client.post(url(proposal))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Submissions are no longer accepted; your draft is kept as it was." in html
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reference) == (ProposalStatus.DRAFT, None)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("coi", 403),
        ("committee", 404),  # a draft stays the team's own until it is submitted
        ("manager", 403),
        ("outsider", 404),
        ("reviewer", 404),
    ],
)
def test_only_the_pi_can_submit_through_the_page(client, request, proposal, call, who, status):
    person = request.getfixturevalue(who)
    if who == "coi":
        add_member(proposal, person)
    if who == "committee":
        add_call_role(call, person)
    if who == "reviewer":
        add_call_role(call, person, role="reviewer")
    client.force_login(person)

    assert client.post(url(proposal)).status_code == status
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT


def test_anonymous_submitters_are_sent_to_sign_in(client, proposal):
    response = client.post(url(proposal))

    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(proposal))


def test_submit_accepts_only_post(client, proposal, pi):
    client.force_login(pi)

    assert client.get(url(proposal)).status_code == 405
