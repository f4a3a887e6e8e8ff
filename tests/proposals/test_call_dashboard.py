"""The call dashboard (PRODUCT §9): proposals by status, requested against the budget, review
progress per reviewer with the overdue reviews, the outbox for the call's people, and a link
to every manager action of the call. For call managers only."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.enums import EmailKind, MessageStatus
from notifications.models import OutboxMessage
from proposals.review.models import Review
from proposals.submission.services.lifecycle import proposal_withdraw
from tests.conftest import make_user
from tests.proposals.decisions_factories import on_committee, worked_example
from tests.proposals.helpers import assert_guarded
from tests.proposals.test_ranking import pending

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(pi, coi):
    example = worked_example(pi=pi, coi=coi)
    late = make_user("lena@review.example", full_name="Lena Late")
    review = pending(example["DELTA"], late)
    Review.objects.filter(pk=review.pk).update(due_at=timezone.now() - timedelta(days=2))
    pending(example["ECHO"], late)  # open, not yet due
    return example


def url(example) -> str:
    return reverse("manage_call_dashboard", args=[example.call.pk])


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The rows of one table as the reader sees them: cell texts, tags removed."""
    table = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def test_a_manager_sees_the_call_at_a_glance(client, example, manager, pi):
    proposal_withdraw(proposal=example["FOXTROT"], by=example["FOXTROT"].pi)
    client.force_login(manager)
    html = client.get(url(example)).content.decode()

    assert "Dashboard of JUPITER 2027-1" in html
    statuses = {row[0]: row[1] for row in table_rows(html, "statuses")[1:]}
    assert statuses["Submitted"] == "5"
    assert statuses["Withdrawn"] == "1"
    assert statuses["Draft"] == "0"
    assert table_rows(html, "demand")[1] == [
        "JUPITER Booster",
        "1,000,000 GPU-hours",
        "1,500,000 GPU-hours",
        "1.50× oversubscribed",
        "5",
    ]
    reviewers = table_rows(html, "reviewers")
    assert reviewers[1] == ["Lena Late lena@review.example", "2", "0", "2", "1", "0"]
    assert reviewers[2] == ["Rita Reviewer rita@review.example", "6", "6", "0", "0", "0"]
    assert reviewers[3] == ["Tom Technical tom@centre.example", "1", "1", "0", "0", "0"]
    assert "Reviews: 7 of 9 submitted" in page_text_of(html)
    overdue = table_rows(html, "overdue")
    assert len(overdue) == 2
    assert overdue[1][0].endswith("DELTA")
    assert overdue[1][1:3] == ["Lena Late", "Accepted"]
    assert "1 overdue review" in page_text_of(html)


def page_text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_outbox_counts_the_emails_to_the_call_s_people_only(client, example, manager, pi):
    stranger = make_user("stranger@elsewhere.example")
    for person, status in ((pi, MessageStatus.FAILED), (stranger, MessageStatus.FAILED)):
        OutboxMessage.objects.create(
            kind=EmailKind.PROPOSAL_SUBMITTED,
            event=f"dashboard-test:{person.pk}",
            recipient=person.email,
            user=person,
            subject="Receipt",
            body_text="Receipt",
            status=status,
        )
    client.force_login(manager)
    html = client.get(url(example)).content.decode()

    outbox = re.search(r'<ul class="inline-list" id="outbox">(.*?)</ul>', html, re.S).group(1)
    counts = dict(re.findall(r"(\w+) ?: (\d+)", page_text_of(outbox)))
    queued = OutboxMessage.objects.filter(status=MessageStatus.QUEUED).count()
    assert counts == {"Queued": str(queued), "Sending": "0", "Sent": "0", "Failed": "1"}
    assert queued == 6  # the six receipts of the worked example's submissions


def test_every_manager_action_of_the_call_is_one_click_away(client, example, manager):
    client.force_login(manager)
    html = client.get(url(example)).content.decode()

    pk = example.call.pk
    for name in [
        "manage_call_edit",
        "manage_call_people",
        "manage_call_proposals",
        "manage_call_proposals_csv",
        "manage_call_proposals_xlsx",
        "manage_conflicts",
        "manage_assignment",
        "call_ranking",
        "call_reviews_csv",
        "manage_decisions",
        "manage_call_decisions_xlsx",
        "call_audit",
        "manage_call_next_cycle",
        "manage_call_archive",
    ]:
        assert reverse(name, args=[pk]) in html, name
    assert f"{reverse('manage_allocations')}?call={pk}" in html
    listing = client.get(reverse("manage_call_list")).content.decode()
    assert f'href="{url(example)}"' in listing


def test_the_same_queries_for_a_small_and_a_large_call(client, manager, pi, coi):
    client.force_login(manager)
    example = worked_example(pi=pi, coi=coi)
    client.get(url(example))
    with CaptureQueriesContext(connection) as six:
        client.get(url(example))
    for n in range(8):
        pending(example["ALPHA"], make_user(f"extra{n}@review.example"))
    with CaptureQueriesContext(connection) as more:
        html = client.get(url(example)).content.decode()
    assert "extra7@review.example" in html
    assert len(six.captured_queries) == len(more.captured_queries)


def test_the_committee_and_applicants_get_403(client, example, committee, pi):
    on_committee(example.call, committee)
    for person in (committee, pi, example.reviewer):
        client.force_login(person)
        response = client.get(url(example))
        assert response.status_code == 403
        assert "Rita Reviewer" not in response.content.decode()


def test_guarded_and_404_and_405(client, example, manager, pi):
    assert_guarded(client, pi, url(example))
    client.force_login(manager)
    assert (
        client.get(reverse("manage_call_dashboard", args=[example.call.pk + 99])).status_code == 404
    )
    assert client.post(url(example)).status_code == 405
