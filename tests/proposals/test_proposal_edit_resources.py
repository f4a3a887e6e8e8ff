"""The resources section: one amount and justification per resource of the call."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import Call, CallResource
from proposals.submission.models import Proposal, ResourceRequest
from tests.factories import make_call, make_resource
from tests.proposal_factories import make_proposal


def url(proposal: Proposal) -> str:
    return reverse("proposal_edit", args=[proposal.pk, "resources"])


def block(page: str, element_id: str) -> str:
    match = re.search(rf'<(div|p) [^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match[2])).split())


def requests_of(proposal: Proposal) -> list[tuple[str, Decimal, str]]:
    return [
        (row.call_resource.resource.code, row.amount, row.justification)
        for row in proposal.requests.select_related("call_resource__resource").order_by(
            "call_resource__resource__code"
        )
    ]


@pytest.fixture
def call(db) -> Call:
    booster = make_resource()
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    return make_call(
        resources=[
            (booster, Decimal(1_000_000), Decimal(10_000), Decimal(200_000)),
            (storage, Decimal(500), Decimal("0.5"), Decimal(50)),
        ]
    )


@pytest.fixture
def offers(call) -> tuple[CallResource, CallResource]:
    booster = call.call_resources.get(resource__code="jupiter-booster")
    storage = call.call_resources.get(resource__code="project-storage")
    return booster, storage


@pytest.fixture
def draft(call, pi) -> Proposal:
    return make_proposal(call, pi)


def resources_data(proposal: Proposal, rows: dict[CallResource, tuple[str, str]]) -> dict:
    data = {"lock_version": str(proposal.lock_version), "save": "draft"}
    for offer, (amount, justification) in rows.items():
        data[f"request-{offer.pk}-amount"] = amount
        data[f"request-{offer.pk}-justification"] = justification
    return data


def test_page_lists_every_resource_with_its_limits_and_unit(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert "<legend>JUPITER Booster (GPU-hours)</legend>" in page
    assert "<legend>Project storage (TB)</legend>" in page
    assert f'<label for="id_request-{booster.pk}-amount">Amount requested (GPU-hours)</label>' in (
        page
    )
    assert block(page, f"id_request-{booster.pk}-amount_helptext") == (
        "Between 10,000 and 200,000 GPU-hours per proposal. "
        "Leave empty if you do not need this resource."
    )
    assert block(page, f"id_request-{storage.pk}-amount_helptext").startswith(
        "Between 0.5 and 50 TB per proposal."
    )


def test_pi_saves_the_requests(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    response = client.post(
        url(draft),
        resources_data(
            draft,
            {
                booster: ("150000", "300 runs × 500 GPU-hours, from the scaling table."),
                storage: ("", ""),
            },
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == url(draft)
    assert requests_of(draft) == [
        (
            "jupiter-booster",
            Decimal("150000.00"),
            "300 runs × 500 GPU-hours, from the scaling table.",
        )
    ]
    draft.refresh_from_db()
    assert (draft.lock_version, draft.updated_by) == (2, pi)
    page = client.get(url(draft)).content.decode()
    assert f'name="request-{booster.pk}-amount" value="150000"' in page


def test_changing_and_clearing_requests(client, pi, draft, offers):
    booster, storage = offers
    ResourceRequest.objects.create(
        proposal=draft, call_resource=booster, amount=Decimal(50_000), justification="Old"
    )
    client.force_login(pi)

    response = client.post(
        url(draft),
        resources_data(draft, {booster: ("", ""), storage: ("12.5", "Checkpoints")}),
    )

    assert response.status_code == 302
    assert requests_of(draft) == [("project-storage", Decimal("12.50"), "Checkpoints")]


def test_a_justification_without_an_amount_is_kept(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    client.post(
        url(draft), resources_data(draft, {booster: ("", "Draft of my reasons"), storage: ("", "")})
    )

    assert requests_of(draft) == [("jupiter-booster", Decimal("0.00"), "Draft of my reasons")]


def test_amount_out_of_range_is_saved_with_a_warning(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    response = client.post(
        url(draft),
        resources_data(draft, {booster: ("500000", "Big"), storage: ("0.1", "Tiny")}),
    )

    assert response.status_code == 302
    assert requests_of(draft) == [
        ("jupiter-booster", Decimal("500000.00"), "Big"),
        ("project-storage", Decimal("0.10"), "Tiny"),
    ]
    page = client.get(url(draft)).content.decode()
    assert block(page, f"id_request-{booster.pk}-amount_warning") == (
        "Above the maximum of 200,000 GPU-hours. You can save the draft like this, "
        "but it cannot be submitted until the amount is within the limits."
    )
    assert block(page, f"id_request-{storage.pk}-amount_warning") == (
        "Below the minimum of 0.5 TB. You can save the draft like this, "
        "but it cannot be submitted until the amount is within the limits."
    )


def test_negative_amount_keeps_every_typed_value(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    response = client.post(
        url(draft),
        resources_data(draft, {booster: ("-5", "Typed reasons"), storage: ("7", "Typed too")}),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert block(page, f"id_request-{booster.pk}-amount_error") == "The amount cannot be negative."
    assert f'name="request-{booster.pk}-amount" value="-5"' in page
    assert f'name="request-{storage.pk}-amount" value="7"' in page
    assert ">\nTyped reasons</textarea>" in page
    assert ">\nTyped too</textarea>" in page
    assert f'href="#id_request-{booster.pk}-amount"' in page
    assert requests_of(draft) == []
    draft.refresh_from_db()
    assert draft.lock_version == 1


def test_not_a_number_is_refused(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)

    response = client.post(
        url(draft), resources_data(draft, {booster: ("lots", ""), storage: ("", "")})
    )

    assert response.status_code == 200
    assert block(response.content.decode(), f"id_request-{booster.pk}-amount_error") == (
        "Give a number, e.g. 150000."
    )


def test_save_and_continue_goes_to_the_technical_data(client, pi, draft, offers):
    booster, storage = offers
    client.force_login(pi)
    data = resources_data(draft, {booster: ("20000", "x"), storage: ("", "")})
    data["continue"] = "1"

    response = client.post(url(draft), data)

    assert response["Location"] == reverse("proposal_edit", args=[draft.pk, "technical"])


def test_problems_shown_after_a_refused_submission(client, pi, draft, offers):
    booster, storage = offers
    ResourceRequest.objects.create(
        proposal=draft, call_resource=booster, amount=Decimal(500_000), justification=""
    )
    Proposal.objects.filter(pk=draft.pk).update(submit_attempted_at=timezone.now())
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert block(page, f"id_request-{booster.pk}-amount_error") == (
        "At most 200,000 GPU-hours can be requested on JUPITER Booster."
    )
    assert f"id_request-{booster.pk}-amount_warning" not in page  # the error says it already
    assert block(page, f"id_request-{booster.pk}-justification_error") == (
        "Explain how you arrived at the amount requested on JUPITER Booster."
    )


def test_no_request_at_all_is_shown_at_the_top_after_a_refused_submission(client, pi, draft):
    Proposal.objects.filter(pk=draft.pk).update(submit_attempted_at=timezone.now())
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert block(page, "requests") == "Request an amount of at least one resource."
    assert 'href="#requests"' in page


def test_manager_reads_amounts_without_inputs_to_change(client, manager, draft, offers):
    booster, _storage = offers
    ResourceRequest.objects.create(
        proposal=draft, call_resource=booster, amount=Decimal(50_000), justification="Why"
    )
    client.force_login(manager)

    page = client.get(url(draft)).content.decode()

    assert re.search(rf'name="request-{booster.pk}-amount" value="50000"[^>]*\breadonly\b', page)
    assert 'name="save"' not in page
