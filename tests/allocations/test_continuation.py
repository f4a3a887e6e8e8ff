"""A proposal that continues one of its PI's allocations (PRODUCT §8), over HTTP: the choice on
the call's page (the PI's own allocations only), the draft that starts from the earlier
proposal, the earlier allocation's use and final report for the committee, and the award that
keeps the Slurm account."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from allocations.enums import LedgerKind
from allocations.models import Allocation
from allocations.services.awards import allocation_create_for_award
from allocations.services.reports import final_report_upload
from proposals.calls.hooks import continuable
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import PROPOSAL_FIELDS, Proposal, ResourceRequest, ScalingPoint
from tests.allocation_factories import add_entry, add_usage, make_allocation
from tests.conftest import make_user
from tests.factories import make_resource
from tests.pdfs import pdf_bytes
from tests.proposal_factories import add_call_role, make_call_closing
from tests.proposals.reviewing_factories import accepted

pytestmark = pytest.mark.django_db

REPORT = pdf_bytes(4)


@pytest.fixture
def booster(db):
    return make_resource()


@pytest.fixture
def earlier(pi, booster) -> Allocation:
    """Sparse MoE, 1 May 2027 – 30 Apr 2028: 12,000 GPU-hours awarded, 9,000 used, 500
    forfeited, its final report uploaded."""
    allocation = make_allocation(pi=pi, acronym="sparse", awarded={booster: 12_000})
    Proposal.objects.filter(pk=allocation.proposal_id).update(
        title="Sparse mixture-of-experts at scale",
        abstract="We train sparse models.",
        field="PE6",
        keywords=["moe", "sparsity"],
        codes="Megatron-LM 0.9",
        job_size="512 GPUs",
        wall_time="24 h",
        memory="80 GB per GPU",
        storage="200 TB on the project file system",
        previous_allocations="JUWELS Booster 2026",
    )
    earlier_proposal = allocation.proposal
    ScalingPoint.objects.create(proposal=earlier_proposal, gpus=64, seconds_per_step=Decimal(2))
    ResourceRequest.objects.create(
        proposal=earlier_proposal,
        call_resource=earlier_proposal.call.call_resources.get(resource=booster),
        amount=Decimal(12_000),
        justification="400 runs of 30 GPU-hours.",
    )
    add_usage(allocation, booster, 9_000, on=date(2027, 9, 1))
    add_entry(allocation, booster, kind=LedgerKind.FORFEIT, amount=-500, on=date(2027, 10, 31))
    final_report_upload(
        allocation=allocation,
        by=pi,
        upload=SimpleUploadedFile("report.pdf", REPORT, content_type="application/pdf"),
        now=datetime(2028, 5, 2, tzinfo=UTC),
    )
    return allocation


@pytest.fixture
def call(booster):
    return make_call_closing()  # open; period 1 May 2099 – 30 Apr 2100


def start(client, call, **data):
    return client.post(reverse("proposal_start", args=[call.pk]), data)


def table_rows(html: str, start: str) -> list[list[str]]:
    section = html[html.index(start) :]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_call_page_offers_the_pis_own_allocations_only(client, call, earlier, pi, booster):
    make_allocation(pi=make_user("lena@north.example"), acronym="other", awarded={booster: 10})
    client.force_login(pi)
    html = client.get(reverse("call_detail", args=[call.pk])).content.decode()
    options = re.findall(r'<option value="(\d*)">([^<]*)</option>', html)
    assert options == [
        ("", "A new project"),
        (
            str(earlier.proposal_id),
            f"Continue {earlier.account} · Sparse mixture-of-experts at scale"
            " (1 May 2027 – 30 Apr 2028)",
        ),
    ]


def test_someone_elses_allocation_cannot_be_continued(client, call, earlier):
    intruder = make_user("intruder@else.example")
    client.force_login(intruder)
    response = start(client, call, continues=earlier.proposal_id)
    assert response["Location"] == reverse("call_detail", args=[call.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You can continue only an allocation of your own."
    ]
    assert not Proposal.objects.filter(call=call).exists()


def test_a_continuation_over_http_from_the_start_to_the_award(
    client, call, earlier, pi, committee, reviewer, outsider, booster
):
    client.force_login(pi)
    response = start(client, call, continues=earlier.proposal_id)

    proposal = Proposal.objects.get(call=call)
    assert response["Location"] == reverse("proposal_edit", args=[proposal.pk, "general"])
    assert proposal.continues_id == earlier.proposal_id
    carried = [f for f in PROPOSAL_FIELDS if f not in {"pi_affiliation", "pi_country"}]
    before = Proposal.objects.get(pk=earlier.proposal_id)
    assert {f: getattr(proposal, f) for f in carried} == {f: getattr(before, f) for f in carried}
    assert proposal.title == "Sparse mixture-of-experts at scale"
    assert list(proposal.scaling.values_list("gpus", "seconds_per_step")) == [(64, Decimal(2))]
    assert list(
        proposal.requests.values_list("call_resource__call", "amount", "justification")
    ) == [(call.pk, Decimal(12_000), "400 runs of 30 GPU-hours.")]

    # Submitted (the submission is tested on its own): the committee reads the earlier use.
    Proposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.SUBMITTED, reference="JUP99-1-0001", reference_number=1
    )
    add_call_role(call, committee)
    client.force_login(committee)
    html = client.get(reverse("proposal_detail", args=[proposal.pk])).content.decode()
    assert f"Account <code>{earlier.account}</code> of {earlier.proposal.reference}" in html
    assert table_rows(html, 'id="earlier-allocation"') == [
        ["JUPITER Booster", "12,000 GPU-hours", "9,000 GPU-hours", "500 GPU-hours"]
    ]
    report_url = reverse("proposal_earlier_report", args=[proposal.pk])
    assert f'href="{report_url}"' in html
    download = client.get(report_url)
    assert b"".join(download.streaming_content) == REPORT
    # An assigned reviewer reads the same; an outsider learns nothing.
    accepted(proposal, reviewer)
    client.force_login(reviewer)
    html = client.get(reverse("proposal_detail", args=[proposal.pk])).content.decode()
    assert table_rows(html, 'id="earlier-allocation"') == [
        ["JUPITER Booster", "12,000 GPU-hours", "9,000 GPU-hours", "500 GPU-hours"]
    ]
    assert b"".join(client.get(report_url).streaming_content) == REPORT
    client.force_login(outsider)
    assert client.get(report_url).status_code == 404
    assert client.post(report_url).status_code == 405

    # The award keeps the account; only the later allocation can be continued now.
    decision = Decision.objects.create(proposal=proposal, outcome=DecisionOutcome.AWARDED)
    AwardLine.objects.create(
        decision=decision, call_resource=call.call_resources.get(), amount=Decimal(20_000)
    )
    later = allocation_create_for_award(decision=decision, by=None)
    assert (later.account, later.continues, later.start) == (
        earlier.account,
        earlier,
        date(2099, 5, 1),
    )
    assert [choice.proposal_id for choice in continuable(pi)] == [later.proposal_id]

    def sync(today: str) -> list[str]:
        out = StringIO()
        call_command("slurm_sync", "--cluster", "jupiter", "--today", today, stdout=out)
        return out.getvalue().splitlines()

    # Between the periods the account is stopped; from the new period on it runs the award.
    assert sync("2099-04-30")[-1] == (
        f"sacctmgr -i modify account where Name={earlier.account} Cluster=jupiter"
        " set GrpTRESMins=billing=0,gres/gpu=0"
    )
    assert f"# {earlier.account}: limits of the award: JUPITER Booster 20000 GPU-hours" in sync(
        "2099-05-01"
    )


def test_a_new_project_is_still_the_default(client, call, earlier, pi):
    client.force_login(pi)
    start(client, call)
    proposal = Proposal.objects.get(call=call)
    assert (proposal.continues, proposal.title, proposal.requests.count()) == (None, "", 0)


def test_an_outsider_does_not_learn_of_a_continuations_report(client, call, earlier, pi):
    client.force_login(pi)
    start(client, call, continues=earlier.proposal_id)
    proposal = Proposal.objects.get(call=call)
    # A draft is read by its team only: the PI downloads, anyone else gets 404.
    report_url = reverse("proposal_earlier_report", args=[proposal.pk])
    assert b"".join(client.get(report_url).streaming_content) == REPORT
    client.force_login(make_user("nosy@else.example"))
    assert client.get(report_url).status_code == 404
