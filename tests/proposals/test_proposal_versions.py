"""Each submission is kept as a numbered, immutable version (PRODUCT §4.2)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.append_only import AppendOnlyError
from proposals.calls.models import Call
from proposals.submission.enums import AttachmentKind, ProposalStatus
from proposals.submission.models import Proposal, ProposalVersion, ScalingPoint
from proposals.submission.services.lifecycle import proposal_submit, proposal_unsubmit
from tests.proposal_factories import (
    DEADLINE,
    add_call_role,
    add_description,
    add_member,
    complete_proposal,
    make_call_closing,
)
from tests.proposals.helpers import login_url_for

FIRST = DEADLINE - timedelta(days=3)
SECOND = DEADLINE - timedelta(days=1)


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


@pytest.fixture
def proposal(call, pi, coi) -> Proposal:
    proposal = complete_proposal(call, pi)
    add_member(proposal, coi)
    return proposal


@pytest.fixture
def resubmitted(proposal, pi) -> Proposal:
    """Submitted, taken back, changed (title, scaling, a new description), submitted again."""
    proposal_submit(proposal=proposal, by=pi, now=FIRST)
    proposal_unsubmit(proposal=proposal, by=pi, now=FIRST + timedelta(hours=1))
    Proposal.objects.filter(pk=proposal.pk).update(title="Sparse experts, revised")
    ScalingPoint.objects.create(
        proposal=proposal, gpus=256, seconds_per_step=Decimal("0.3400"), position=2
    )
    proposal.attachments.filter(kind=AttachmentKind.DESCRIPTION).update(replaced_at=timezone.now())
    add_description(proposal, pages=5, name="description-v2.pdf")
    proposal.refresh_from_db()
    proposal_submit(proposal=proposal, by=pi, now=SECOND)
    return proposal


def url(proposal: Proposal, number: int) -> str:
    return reverse("proposal_version", args=[proposal.pk, number])


def expected_snapshot(proposal: Proposal, *, title: str, scaling: list, attachment) -> dict:
    return {
        "reference": "JUP27-1-0001",
        "call": {
            "id": proposal.call_id,
            "code": "JUPITER 2027-1",
            "name": "JUPITER 2027-1 call for proposals",
        },
        "fields": {
            "title": title,
            "acronym": "SPARSE-MOE",
            "abstract": "We measure how sparse expert models scale with data and compute.",
            "field": "PE6",
            "keywords": ["language models", "mixture of experts"],
            "pi_affiliation": "Uni Example",
            "pi_country": "DE",
            "previous_allocations": "",
            "excluded_reviewers": "",
            "codes": "PyTorch 2.5, Megatron-LM 0.9",
            "job_size": "512 GPUs",
            "wall_time": "24 hours",
            "memory": "80 GB per GPU",
            "storage": "200 TB on the project file system, archived to tape after the project.",
        },
        "pi": {
            "name": "Paula Investigator",
            "email": "pi@uni.example",
            "affiliation": "Uni Example",
        },
        "team": [
            {
                "name": "Carl Coinvestigator",
                "email": "coi@lab.example",
                "affiliation": "Lab Example",
            }
        ],
        "requests": [
            {
                "resource": "JUPITER Booster",
                "unit": "GPU-hours",
                "amount": "100000.00",
                "justification": "200 runs of 500 GPU-hours, measured on JUWELS Booster.",
            }
        ],
        "scaling": scaling,
        "attachments": [
            {
                "id": attachment.pk,
                "kind": "description",
                "original_name": attachment.original_name,
                "pages": attachment.pages,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
        ],
    }


def test_resubmission_keeps_the_reference_and_makes_version_two(resubmitted, pi):
    assert (resubmitted.status, resubmitted.reference, resubmitted.submitted_at) == (
        ProposalStatus.SUBMITTED,
        "JUP27-1-0001",
        SECOND,
    )
    assert list(resubmitted.versions.values_list("number", "submitted_at", "submitted_by")) == [
        (1, FIRST, pi.pk),
        (2, SECOND, pi.pk),
    ]
    resubmitted.call.refresh_from_db()
    assert resubmitted.call.last_reference_number == 1


def test_both_snapshots_are_exact(resubmitted):
    old_file, new_file = resubmitted.attachments.order_by("id")
    two_rows = [
        {"gpus": 64, "seconds_per_step": "1.2000"},
        {"gpus": 128, "seconds_per_step": "0.6500"},
    ]
    first, second = resubmitted.versions.order_by("number")

    assert first.snapshot == expected_snapshot(
        resubmitted,
        title="Scaling laws of sparse mixture-of-experts language models",
        scaling=two_rows,
        attachment=old_file,
    )
    assert second.snapshot == expected_snapshot(
        resubmitted,
        title="Sparse experts, revised",
        scaling=[*two_rows, {"gpus": 256, "seconds_per_step": "0.3400"}],
        attachment=new_file,
    )
    assert (old_file.original_name, old_file.pages, new_file.original_name, new_file.pages) == (
        "description.pdf",
        3,
        "description-v2.pdf",
        5,
    )


def test_a_version_cannot_be_saved_again(resubmitted):
    version = resubmitted.versions.get(number=1)
    version.snapshot = {"fields": {"title": "Rewritten history"}}

    with pytest.raises(AppendOnlyError, match="append-only"):
        version.save()

    version.refresh_from_db()
    assert version.snapshot["fields"]["title"].startswith("Scaling laws")


def test_a_version_cannot_be_deleted(resubmitted):
    version = resubmitted.versions.get(number=1)

    with pytest.raises(AppendOnlyError, match="append-only"):
        version.delete()

    assert ProposalVersion.objects.filter(pk=version.pk).exists()


@pytest.mark.parametrize("who", ["pi", "coi"])
def test_the_team_can_open_both_versions(client, request, resubmitted, who):
    client.force_login(request.getfixturevalue(who))

    first = client.get(url(resubmitted, 1))
    second = client.get(url(resubmitted, 2))

    assert (first.status_code, second.status_code) == (200, 200)
    first_html, second_html = first.content.decode(), second.content.decode()
    assert '<h2 id="version-head">Version 1</h2>' in first_html
    assert "<dt>Title</dt><dd>Scaling laws of sparse mixture-of-experts language models</dd>" in (
        first_html
    )
    assert "<dt>Title</dt><dd>Sparse experts, revised</dd>" in second_html
    assert "<dt>Field of science</dt><dd>PE6 Computer Science and Informatics</dd>" in first_html
    assert "<dt>PI&#x27;s country</dt><dd>Germany</dd>" in first_html
    assert "<dd>100,000 GPU-hours</dd>" in first_html
    assert "256" not in first_html.split('id="v-scaling"')[1].split("</table>")[0]
    assert '<th scope="row" class="num">256</th>' in second_html


def test_each_version_links_the_files_it_was_submitted_with(client, resubmitted, pi):
    old_file, new_file = resubmitted.attachments.order_by("id")
    client.force_login(pi)

    first = client.get(url(resubmitted, 1)).content.decode()
    second = client.get(url(resubmitted, 2)).content.decode()

    old_link = reverse("attachment_download", args=[resubmitted.pk, old_file.pk])
    new_link = reverse("attachment_download", args=[resubmitted.pk, new_file.pk])
    assert f'<a href="{old_link}" download>description.pdf</a>' in first
    assert new_link not in first
    assert f'<a href="{new_link}" download>description-v2.pdf</a>' in second
    assert old_link not in second


def test_a_version_that_does_not_exist_is_not_found(client, resubmitted, pi):
    client.force_login(pi)

    assert client.get(url(resubmitted, 3)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("committee", 200), ("manager", 200), ("outsider", 404), ("reviewer", 404)],
)
def test_who_can_read_a_version(client, request, resubmitted, who, status):
    person = request.getfixturevalue(who)
    if who == "committee":
        add_call_role(resubmitted.call, person)
    if who == "reviewer":
        add_call_role(resubmitted.call, person, role="reviewer")
    client.force_login(person)

    response = client.get(url(resubmitted, 1))

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "<form" not in html.split('class="proposal-body"')[1].split("</main>")[0]


def test_anonymous_readers_are_sent_to_sign_in(client, resubmitted):
    response = client.get(url(resubmitted, 1))

    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(resubmitted, 1))


def test_a_version_page_accepts_only_get(client, resubmitted, pi):
    client.force_login(pi)

    assert client.post(url(resubmitted, 1)).status_code == 405
