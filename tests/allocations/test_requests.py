"""Requests for more (PRODUCT §8): the PI asks for more hours or a longer period with a reason;
one pending request of each kind; a call manager approves (a ledger adjustment, or the new end
date) or declines with a note; emails both ways; audit entries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from allocations.enums import LedgerKind, RequestKind, RequestStatus
from allocations.models import Allocation, AllocationRequest, LedgerEntry
from allocations.selectors.ledger import balance
from allocations.services.requests import allocation_request_create, allocation_request_decide
from notifications.models import OutboxMessage
from proposals.calls.models import AuditEntry
from tests.allocation_factories import make_allocation
from tests.conftest import make_manager
from tests.factories import make_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi, coi, booster) -> Allocation:
    """1 May 2027 to 30 April 2028, 12,000 GPU-hours."""
    return make_allocation(pi=pi, awarded={booster: 12_000}, members=[coi], acronym="moe")


@pytest.fixture
def managers(db):
    return [make_manager(), make_manager("second@centre.example")]


def more_hours(allocation, by, *, amount=2_000, reason="A second ablation study.", **kwargs):
    return allocation_request_create(
        allocation=allocation,
        by=by,
        kind=RequestKind.MORE_HOURS,
        resource=kwargs.pop("resource", allocation.resources.get().resource),
        amount=Decimal(amount),
        reason=reason,
        **kwargs,
    )


def extension(allocation, by, *, new_end=date(2028, 7, 31), reason="The data arrived late."):
    return allocation_request_create(
        allocation=allocation,
        by=by,
        kind=RequestKind.EXTENSION,
        new_end=new_end,
        reason=reason,
    )


def mails(kind: str) -> list[tuple[str, str, str]]:
    return list(
        OutboxMessage.objects.filter(kind=kind)
        .order_by("recipient")
        .values_list("event", "recipient", "subject")
    )


def audit(allocation) -> list[str]:
    return list(
        AuditEntry.objects.filter(subject_type="allocation", subject_id=allocation.pk)
        .exclude(action="allocation.created")
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- Asking ----------------------------------------------------------------------------------


def test_the_pi_asks_for_more_hours_and_managers_are_told(allocation, pi, booster, managers):
    request = more_hours(allocation, pi)

    assert (request.kind, request.resource, request.amount, request.new_end) == (
        RequestKind.MORE_HOURS,
        booster,
        Decimal(2_000),
        None,
    )
    assert (request.status, request.requested_by, request.reason) == (
        RequestStatus.PENDING,
        pi,
        "A second ablation study.",
    )
    subject = f"[Allot] {allocation.account} asks for 2,000 more GPU-hours"
    event = f"allocation-request-new:{request.pk}"
    assert mails("allocation-request-new") == [
        (event, "manager@centre.example", subject),
        (event, "second@centre.example", subject),
    ]
    body = OutboxMessage.objects.filter(kind="allocation-request-new").first().body_text
    assert (
        f"Paula Investigator asks for 2,000 more GPU-hours of JUPITER Booster for the "
        f"allocation {allocation.account}." in body
    )
    assert "A second ablation study." in body
    assert f"/allocations/{allocation.pk}/#requests" in body
    assert audit(allocation) == ["allocation.request_created"]


def test_the_pi_asks_for_a_longer_period(allocation, pi, managers):
    request = extension(allocation, pi)

    assert (request.kind, request.new_end, request.resource, request.amount) == (
        RequestKind.EXTENSION,
        date(2028, 7, 31),
        None,
        None,
    )
    assert [subject for _, _, subject in mails("allocation-request-new")] == [
        f"[Allot] {allocation.account} asks for its period to end on 31 Jul 2028"
    ] * 2


def test_one_pending_request_of_each_kind(allocation, pi, managers):
    more_hours(allocation, pi)
    extension(allocation, pi)

    with pytest.raises(ValidationError) as refused:
        more_hours(allocation, pi, amount=10)

    assert refused.value.messages == [
        "A request for more hours is already waiting for a decision. You can ask again once it "
        "is decided."
    ]
    with pytest.raises(ValidationError):
        extension(allocation, pi, new_end=date(2028, 8, 31))
    assert AllocationRequest.objects.count() == 2


def test_after_a_decision_the_pi_can_ask_again(allocation, pi, managers):
    first = more_hours(allocation, pi)
    allocation_request_decide(request=first, by=managers[0], approve=False, note="Not now.")

    second = more_hours(allocation, pi, amount=500)

    assert second.status == RequestStatus.PENDING


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"reason": "   "}, "reason"),
    ],
)
def test_what_cannot_be_asked(allocation, pi, kwargs, field):
    with pytest.raises(ValidationError) as refused:
        more_hours(allocation, pi, **kwargs)

    assert list(refused.value.message_dict) == [field]


def test_a_resource_the_allocation_does_not_have_is_refused(allocation, pi):
    other = make_resource("juwels", name="JUWELS Cluster", unit="core-hours")

    with pytest.raises(ValidationError) as refused:
        more_hours(allocation, pi, resource=other)

    assert refused.value.message_dict == {"resource": ["Choose one of the allocation's resources."]}


def test_a_new_end_must_be_after_the_current_one(allocation, pi):
    with pytest.raises(ValidationError) as refused:
        extension(allocation, pi, new_end=date(2028, 4, 30))

    assert refused.value.message_dict == {
        "new_end": ["Choose a date after the current end, 30 Apr 2028."]
    }


def test_nothing_can_be_asked_once_the_period_ended(pi, booster):
    today = timezone.localdate()
    ended = make_allocation(
        pi=pi, awarded={booster: 100}, start=today - timedelta(days=300), end=today - timedelta(2)
    )

    with pytest.raises(ValidationError) as refused:
        extension(ended, pi, new_end=today + timedelta(days=30))

    assert refused.value.code == "ended"


def test_only_the_pi_asks(allocation, coi, managers):
    for person in [coi, managers[0]]:
        with pytest.raises(PermissionDenied):
            more_hours(allocation, person)
    assert AllocationRequest.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


# --- Deciding --------------------------------------------------------------------------------


def test_approving_more_hours_adds_an_adjustment(allocation, pi, booster, managers):
    request = more_hours(allocation, pi)

    allocation_request_decide(request=request, by=managers[0], approve=True, note="Granted.")

    entry = LedgerEntry.objects.get(kind=LedgerKind.ADJUSTMENT)
    assert (entry.allocation, entry.resource, entry.amount, entry.author) == (
        allocation,
        booster,
        Decimal(2_000),
        managers[0],
    )
    assert entry.reason == f"Approved request #{request.pk}: A second ablation study."
    assert balance(allocation, booster) == Decimal(14_000)
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_note) == (
        RequestStatus.APPROVED,
        managers[0],
        "Granted.",
    )
    assert request.decided_at is not None
    assert audit(allocation) == [
        "allocation.request_created",
        "allocation.adjusted",
        "allocation.request_approved",
    ]


def test_approving_an_extension_moves_the_end(allocation, pi, managers):
    request = extension(allocation, pi)

    allocation_request_decide(request=request, by=managers[0], approve=True)

    allocation.refresh_from_db()
    assert allocation.end == date(2028, 7, 31)
    assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).count() == 0
    entry = AuditEntry.objects.get(action="allocation.request_approved")
    assert (entry.actor, entry.after["end_before"], entry.after["end"]) == (
        managers[0],
        "2028-04-30",
        "2028-07-31",
    )


def test_the_pi_is_told_of_the_decision(allocation, pi, managers):
    request = more_hours(allocation, pi)

    allocation_request_decide(request=request, by=managers[0], approve=True)

    assert mails("allocation-request-decided") == [
        (
            f"allocation-request-decided:{request.pk}",
            "pi@uni.example",
            f"[Allot] Your request for {allocation.account} was approved",
        )
    ]
    body = OutboxMessage.objects.get(kind="allocation-request-decided").body_text
    assert (
        f"Your request for 2,000 more GPU-hours of JUPITER Booster on {allocation.account} "
        "was approved." in body
    )


def test_declining_needs_a_note_and_changes_nothing_else(allocation, pi, booster, managers):
    request = extension(allocation, pi)

    with pytest.raises(ValidationError) as refused:
        allocation_request_decide(request=request, by=managers[0], approve=False, note=" ")
    assert list(refused.value.message_dict) == ["note"]

    allocation_request_decide(
        request=request, by=managers[0], approve=False, note="The machine is full until autumn."
    )

    allocation.refresh_from_db()
    request.refresh_from_db()
    assert allocation.end == date(2028, 4, 30)
    assert (request.status, request.decision_note) == (
        RequestStatus.DECLINED,
        "The machine is full until autumn.",
    )
    assert balance(allocation, booster) == Decimal(12_000)
    assert mails("allocation-request-decided") == [
        (
            f"allocation-request-decided:{request.pk}",
            "pi@uni.example",
            f"[Allot] Your request for {allocation.account} was declined",
        )
    ]
    body = OutboxMessage.objects.get(kind="allocation-request-decided").body_text
    assert "The machine is full until autumn." in body
    assert audit(allocation) == ["allocation.request_created", "allocation.request_declined"]


def test_a_request_is_decided_once(allocation, pi, managers):
    request = more_hours(allocation, pi)
    allocation_request_decide(request=request, by=managers[0], approve=True)

    with pytest.raises(ValidationError) as refused:
        allocation_request_decide(request=request, by=managers[1], approve=True)

    assert refused.value.messages == ["This request was approved already."]
    assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUSTMENT).count() == 1


def test_only_managers_decide(allocation, pi, coi):
    request = more_hours(allocation, pi)

    for person in [pi, coi]:
        with pytest.raises(PermissionDenied):
            allocation_request_decide(request=request, by=person, approve=True)


# --- The requests page -----------------------------------------------------------------------


def page_url(allocation) -> str:
    return reverse("allocation_request", args=[allocation.pk])


def test_the_pi_asks_through_the_page(client, allocation, pi, booster, managers):
    client.force_login(pi)

    response = client.post(
        page_url(allocation),
        {
            "kind": "more_hours",
            "resource": booster.pk,
            "amount": "1500",
            "reason": "Scaling runs at 4,096 GPUs.",
        },
        follow=True,
    )

    assert response.redirect_chain == [(page_url(allocation), 302)]
    page = response.content.decode()
    assert "Your request is sent to the call managers." in page
    assert "1,500 more GPU-hours of JUPITER Booster" in page
    request = AllocationRequest.objects.get()
    assert (request.amount, request.reason) == (Decimal(1_500), "Scaling runs at 4,096 GPUs.")
    assert len(mails("allocation-request-new")) == 2


def test_the_page_asks_for_what_each_kind_needs(client, allocation, pi):
    client.force_login(pi)

    response = client.post(page_url(allocation), {"kind": "extension", "reason": "Late data."})

    assert response.status_code == 200
    assert "Choose the new end date." in response.content.decode()
    assert AllocationRequest.objects.count() == 0


def test_a_second_pending_request_is_refused_on_the_page(client, allocation, pi, managers):
    extension(allocation, pi)
    client.force_login(pi)

    response = client.post(
        page_url(allocation),
        {"kind": "extension", "new_end": "2028-09-30", "reason": "Even later."},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "A request for a longer period is already waiting for a decision." in page
    assert AllocationRequest.objects.count() == 1


def test_members_see_the_requests_but_no_form(client, allocation, pi, coi, managers):
    more_hours(allocation, pi)
    client.force_login(coi)

    response = client.get(page_url(allocation))

    assert response.status_code == 200
    page = response.content.decode()
    assert "2,000 more GPU-hours of JUPITER Booster" in page
    assert "Send the request" not in page
    assert "Waiting for a call manager." in page


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [("pi", 200, 302), ("coi", 200, 403), ("manager", 200, 403), ("outsider", 404, 404)],
)
def test_who_may_see_and_ask(client, allocation, booster, who, get, post, request):
    client.force_login(make_manager() if who == "manager" else request.getfixturevalue(who))

    assert client.get(page_url(allocation)).status_code == get
    data = {"kind": "extension", "new_end": "2028-06-30", "reason": "More time."}
    assert client.post(page_url(allocation), data).status_code == post


def test_the_requests_page_wants_a_signed_in_user_and_known_methods(client, allocation, pi):
    response = client.get(page_url(allocation))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))

    client.force_login(pi)
    assert client.put(page_url(allocation)).status_code == 405


# --- Deciding through the page ---------------------------------------------------------------


def decide_url(request) -> str:
    return reverse("request_decide", args=[request.pk])


def test_a_manager_approves_from_the_allocation_page(client, allocation, pi, booster, managers):
    request = more_hours(allocation, pi)
    client.force_login(managers[0])
    detail = reverse("allocation_detail", args=[allocation.pk])
    assert f'action="{decide_url(request)}"' in client.get(detail).content.decode()

    response = client.post(
        decide_url(request), {"decision": "approve", "note": "", "next": detail}, follow=True
    )

    assert response.redirect_chain == [(detail, 302)]
    assert (
        f"Request #{request.pk} of {allocation.account} approved; the PI is told by email."
        in response.content.decode()
    )
    assert balance(allocation, booster) == Decimal(14_000)


def test_without_next_the_answer_goes_to_the_allocation_page(client, allocation, pi, managers):
    request = extension(allocation, pi)
    client.force_login(managers[0])

    response = client.post(decide_url(request), {"decision": "decline", "note": "No."})

    assert response.status_code == 302
    assert response["Location"] == reverse("allocation_detail", args=[allocation.pk]) + "#requests"
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED


def test_a_foreign_next_is_ignored(client, allocation, pi, managers):
    request = extension(allocation, pi)
    client.force_login(managers[0])

    response = client.post(
        decide_url(request),
        {"decision": "approve", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("allocation_detail", args=[allocation.pk]) + "#requests"


def test_declining_without_a_note_says_why(client, allocation, pi, managers):
    request = extension(allocation, pi)
    client.force_login(managers[0])

    response = client.post(decide_url(request), {"decision": "decline", "note": ""}, follow=True)

    assert (
        f"Request #{request.pk} of {allocation.account} was not decided: Say why the request "
        "is declined; the PI reads this." in response.content.decode()
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_deciding_twice_says_so(client, allocation, pi, managers):
    request = extension(allocation, pi)
    allocation_request_decide(request=request, by=managers[1], approve=True)
    client.force_login(managers[0])

    response = client.post(decide_url(request), {"decision": "decline", "note": "x"}, follow=True)

    assert "This request was approved already." in response.content.decode()


@pytest.mark.parametrize("who", ["pi", "coi", "outsider"])
def test_only_managers_reach_the_decision(client, allocation, pi, who, request, managers):
    item = more_hours(allocation, pi)
    client.force_login(request.getfixturevalue(who))

    assert client.post(decide_url(item), {"decision": "approve"}).status_code == 403
    item.refresh_from_db()
    assert item.status == RequestStatus.PENDING


def test_deciding_an_unknown_request_is_404(client, managers):
    client.force_login(managers[0])

    response = client.post(reverse("request_decide", args=[404404]), {"decision": "approve"})

    assert response.status_code == 404


def test_deciding_wants_a_signed_in_manager_and_post(client, allocation, pi, managers):
    item = more_hours(allocation, pi)

    response = client.post(decide_url(item), {"decision": "approve"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))

    client.force_login(managers[0])
    assert client.get(decide_url(item)).status_code == 405
