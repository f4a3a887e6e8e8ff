"""A PI whose final report is overdue cannot start a new proposal (PRODUCT §8): the period of an
allocation they lead ended more than 8 weeks ago and no report has arrived. The refusal names
the account and the date it was due; the call's page shows it instead of the start button."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from allocations.models import Allocation
from allocations.services.reports import final_report_upload
from proposals.calls.models import Call
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_start
from tests.allocation_factories import make_allocation
from tests.conftest import make_user
from tests.factories import make_call
from tests.pdfs import pdf_bytes

pytestmark = pytest.mark.django_db


def ended(pi, *, days_ago: int, members=(), acronym: str = "moe"):
    """An allocation of ``pi`` whose last day was ``days_ago`` days ago."""
    end = timezone.localdate() - timedelta(days=days_ago)
    return make_allocation(
        pi=pi, start=end - timedelta(days=364), end=end, members=list(members), acronym=acronym
    )


@pytest.fixture
def call(db) -> Call:
    return make_call("JUPITER 2027-1")


def day(value) -> str:
    return value.strftime("%-d %b %Y")


def proposals_of(user) -> int:
    return Proposal.objects.filter(pi=user).count()


def test_an_overdue_report_stops_a_new_proposal(call, pi):
    allocation = ended(pi, days_ago=57)  # 8 weeks and a day
    before = proposals_of(pi)

    with pytest.raises(ValidationError) as refused:
        proposal_start(call=call, by=pi)

    due = day(allocation.end + timedelta(weeks=8))
    assert refused.value.messages == [
        f"The final report of your allocation {allocation.account} was due on {due} and has not "
        "arrived. Upload it on the allocation's page; then you can start a new proposal."
    ]
    assert refused.value.code == "final_report_overdue"
    assert proposals_of(pi) == before


def test_every_overdue_allocation_is_named(call, pi):
    # Made while nothing is overdue (each starts a proposal of ``pi``), then moved back.
    older, newer = ended(pi, days_ago=0, acronym="old"), ended(pi, days_ago=0, acronym="new")
    for allocation, days in [(older, 200), (newer, 100)]:
        allocation.end = timezone.localdate() - timedelta(days=days)
        allocation.start = allocation.end - timedelta(days=364)
        Allocation.objects.filter(pk=allocation.pk).update(
            start=allocation.start, end=allocation.end
        )

    with pytest.raises(ValidationError) as refused:
        proposal_start(call=call, by=pi)

    [message] = refused.value.messages
    assert message.index(older.account) < message.index(newer.account)
    assert f"was due on {day(older.end + timedelta(weeks=8))}" in message
    assert f"was due on {day(newer.end + timedelta(weeks=8))}" in message


def test_on_the_due_date_itself_the_report_is_not_overdue(call, pi):
    ended(pi, days_ago=56)

    proposal = proposal_start(call=call, by=pi)

    assert proposal.pi == pi


def test_a_report_lifts_the_block_even_a_late_one(call, pi):
    allocation = ended(pi, days_ago=90)
    upload = SimpleUploadedFile("report.pdf", pdf_bytes(2), content_type="application/pdf")
    final_report_upload(allocation=allocation, by=pi, upload=upload)

    proposal = proposal_start(call=call, by=pi)

    assert proposal.call == call


def test_members_of_an_overdue_allocation_are_not_blocked(call, pi, coi):
    ended(pi, days_ago=90, members=[coi])

    proposal = proposal_start(call=call, by=coi)

    assert proposal.pi == coi


def test_the_call_page_shows_the_reason_instead_of_the_button(client, call, pi):
    allocation = ended(pi, days_ago=60)
    client.force_login(pi)

    page = client.get(reverse("call_detail", args=[call.pk])).content.decode()

    due = day(allocation.end + timedelta(weeks=8))
    assert (
        f"The final report of your allocation {allocation.account} was due on {due} and has not "
        "arrived." in page
    )
    assert f'href="{reverse("my_allocations")}"' in page
    assert f'action="{reverse("proposal_start", args=[call.pk])}"' not in page


def test_the_call_page_keeps_the_button_for_others(client, call, pi):
    ended(pi, days_ago=60)
    client.force_login(make_user("someone@else.example"))

    page = client.get(reverse("call_detail", args=[call.pk])).content.decode()

    assert f'action="{reverse("proposal_start", args=[call.pk])}"' in page
    assert "final report" not in page


def test_starting_through_the_page_is_refused_with_the_message(client, call, pi):
    allocation = ended(pi, days_ago=60)
    client.force_login(pi)
    before = proposals_of(pi)

    response = client.post(reverse("proposal_start", args=[call.pk]), follow=True)

    assert response.redirect_chain == [(reverse("call_detail", args=[call.pk]), 302)]
    assert f"The final report of your allocation {allocation.account}" in (
        response.content.decode()
    )
    assert proposals_of(pi) == before


def test_a_draft_started_before_the_report_was_overdue_cannot_be_submitted(call, pi):
    from proposals.submission.enums import ProposalStatus
    from proposals.submission.services.lifecycle import proposal_submit
    from tests.proposal_factories import complete_proposal

    draft = complete_proposal(call, pi)
    allocation = ended(pi, days_ago=57)

    with pytest.raises(ValidationError) as refused:
        proposal_submit(proposal=draft, by=pi)

    assert refused.value.code == "final_report_overdue"
    assert allocation.account in refused.value.messages[0]
    draft.refresh_from_db()
    assert (draft.status, draft.reference) == (ProposalStatus.DRAFT, None)
