"""The technical section: its fields and the scaling table, saved as one version."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import Call
from proposals.submission.models import Proposal, ScalingPoint
from tests.factories import make_call
from tests.proposal_factories import make_proposal


def url(proposal: Proposal) -> str:
    return reverse("proposal_edit", args=[proposal.pk, "technical"])


def block(page: str, element_id: str) -> str:
    match = re.search(rf'<(div|p) [^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[2])).split())


def scaling_of(proposal: Proposal) -> list[tuple[int, Decimal, int]]:
    return [(row.gpus, row.seconds_per_step, row.position) for row in proposal.scaling.all()]


def technical_data(
    proposal: Proposal, rows: list[tuple[str, str] | tuple[str, str, str]], **fields: str
) -> dict[str, str]:
    """The form as posted: fields, then the table's rows (gpus, seconds[, "on" to remove])."""
    data = {
        "lock_version": str(proposal.lock_version),
        "codes": proposal.codes,
        "job_size": proposal.job_size,
        "wall_time": proposal.wall_time,
        "memory": proposal.memory,
        "storage": proposal.storage,
        "save": "draft",
        "scaling-TOTAL_FORMS": str(len(rows)),
        "scaling-INITIAL_FORMS": "0",
        "scaling-MIN_NUM_FORMS": "0",
        "scaling-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        data[f"scaling-{index}-gpus"] = row[0]
        data[f"scaling-{index}-seconds_per_step"] = row[1]
        if len(row) == 3:
            data[f"scaling-{index}-DELETE"] = row[2]
    data.update(fields)
    return data


@pytest.fixture
def draft(db, pi) -> Proposal:
    return make_proposal(make_call(), pi, codes="PyTorch 2.4")


def test_page_shows_saved_rows_and_empty_ones_to_fill(client, pi, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=Decimal("10.5"))
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert 'name="scaling-0-gpus" value="8"' in page
    assert 'name="scaling-0-seconds_per_step" value="10.5"' in page
    assert 'name="scaling-TOTAL_FORMS" value="3"' in page
    assert '<label class="cell-label" for="id_scaling-1-gpus">GPUs, row 2</label>' in page
    assert "Add a row" in page


def test_pi_saves_fields_and_the_scaling_table_in_order(client, pi, draft):
    client.force_login(pi)
    data = technical_data(
        draft,
        [("8", "10.5"), ("1", "80"), ("", ""), ("64", "1.4")],
        codes="PyTorch 2.5\r\nMegatron-LM 0.9",
        job_size="64 nodes, 256 GPUs",
        wall_time="24 hours",
        memory="80 GB per GPU",
        storage="200 TB scratch; 20 TB archived.",
    )

    response = client.post(url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == url(draft)
    draft.refresh_from_db()
    assert (draft.codes, draft.job_size, draft.wall_time, draft.memory, draft.storage) == (
        "PyTorch 2.5\nMegatron-LM 0.9",
        "64 nodes, 256 GPUs",
        "24 hours",
        "80 GB per GPU",
        "200 TB scratch; 20 TB archived.",
    )
    assert scaling_of(draft) == [
        (8, Decimal("10.5000"), 0),
        (1, Decimal("80.0000"), 1),
        (64, Decimal("1.4000"), 2),
    ]
    assert (draft.lock_version, draft.updated_by) == (2, pi)


def test_a_row_is_removed_with_its_box(client, pi, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=1, position=0)
    ScalingPoint.objects.create(
        proposal=draft, gpus=16, seconds_per_step=Decimal("0.6"), position=1
    )
    client.force_login(pi)

    response = client.post(url(draft), technical_data(draft, [("8", "1", "on"), ("16", "0.6")]))

    assert response.status_code == 302
    assert scaling_of(draft) == [(16, Decimal("0.6000"), 0)]


def test_add_a_row_keeps_what_was_typed_and_saves_nothing(client, pi, draft):
    client.force_login(pi)
    data = technical_data(draft, [("8", "10.5"), ("16", "5.5")], codes="Typed, not saved")
    del data["save"]
    data["add_row"] = "1"

    response = client.post(url(draft), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="scaling-TOTAL_FORMS" value="3"' in page
    assert 'name="scaling-1-gpus" value="16"' in page
    assert re.search(r'<input type="number" name="scaling-2-gpus"(?![^>]*value=)', page)
    assert ">\nTyped, not saved</textarea>" in page
    assert "A row was added at the end of the table." in page
    draft.refresh_from_db()
    assert (draft.codes, draft.lock_version) == ("PyTorch 2.4", 1)
    assert scaling_of(draft) == []


def test_zero_gpus_and_duplicate_counts_are_shown_beside_their_rows(client, pi, draft):
    client.force_login(pi)
    data = technical_data(
        draft, [("0", "3"), ("8", "2"), ("8", "1.9"), ("4", "")], codes="Typed codes"
    )

    response = client.post(url(draft), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert block(page, "id_scaling-0-gpus_error") == "Give a whole number of GPUs, 1 or more."
    assert block(page, "id_scaling-2-gpus_error") == (
        "Another row already has 8 GPUs; keep one of them."
    )
    assert block(page, "id_scaling-3-seconds_per_step_error") == (
        "Give the time per step on these GPUs, or clear the row."
    )
    assert "id_scaling-1-gpus_error" not in page
    assert 'name="scaling-0-gpus" value="0"' in page
    assert 'name="scaling-2-seconds_per_step" value="1.9"' in page
    assert ">\nTyped codes</textarea>" in page
    assert 'href="#id_scaling-2-gpus"' in page
    draft.refresh_from_db()
    assert (draft.codes, draft.lock_version) == ("PyTorch 2.4", 1)
    assert scaling_of(draft) == []


def test_time_per_step_must_be_above_zero(client, pi, draft):
    client.force_login(pi)

    response = client.post(url(draft), technical_data(draft, [("8", "0")]))

    assert block(response.content.decode(), "id_scaling-0-seconds_per_step_error") == (
        "Give a time above zero, in seconds."
    )


def test_a_bad_row_marked_for_removal_is_ignored(client, pi, draft):
    client.force_login(pi)

    response = client.post(url(draft), technical_data(draft, [("0", "x", "on"), ("4", "2")]))

    assert response.status_code == 302
    assert scaling_of(draft) == [(4, Decimal("2.0000"), 0)]


def test_save_and_continue_goes_to_the_attachments(client, pi, draft):
    client.force_login(pi)
    data = technical_data(draft, [])
    data["continue"] = "1"

    response = client.post(url(draft), data)

    assert response["Location"] == reverse("proposal_attachments", args=[draft.pk])


def test_scaling_problem_shown_after_a_refused_submission(client, pi, draft):
    Proposal.objects.filter(pk=draft.pk).update(submit_attempted_at=timezone.now())
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert block(page, "scaling_error") == (
        "Add at least one row to the scaling table (GPUs and time per step)."
    )
    assert block(page, "id_job_size_error") == "Fill in “Typical job size”."
    assert "id_codes_error" not in page  # filled in


def test_a_manager_reads_the_table_without_inputs_to_change(client, manager, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=Decimal("10.5"))
    client.force_login(manager)

    page = client.get(url(draft)).content.decode()

    assert re.search(r'name="scaling-0-gpus" value="8"[^>]*\breadonly\b', page)
    assert "scaling-1-gpus" not in page  # no empty rows to fill
    assert "Add a row" not in page
    assert "DELETE" not in page


def test_after_the_deadline_the_typed_table_is_shown_read_only_and_not_saved(client, pi, draft):
    Call.objects.filter(pk=draft.call_id).update(closes_at=timezone.now() - timedelta(seconds=1))
    client.force_login(pi)

    response = client.post(url(draft), technical_data(draft, [("0", "3"), ("8", "2")]))

    assert response.status_code == 403
    page = response.content.decode()
    assert "this draft can no longer be changed" in page
    assert re.search(r'name="scaling-1-gpus" value="8"[^>]*\breadonly\b', page)
    assert "There is a problem" not in page
    assert "Give a whole number of GPUs" not in page
    assert "Add a row" not in page
    draft.refresh_from_db()
    assert (draft.codes, draft.lock_version) == ("PyTorch 2.4", 1)
    assert scaling_of(draft) == []
