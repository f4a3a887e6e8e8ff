"""Members of an allocation (PRODUCT §8): the PI adds people by the verified address of their
account and removes them (never themself); each change is in the audit trail; members and
managers only see."""

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import User
from allocations.models import AllocationMember
from allocations.services.members import allocation_member_add, allocation_member_remove
from proposals.calls.models import AuditEntry
from tests.allocation_factories import make_allocation
from tests.conftest import make_manager, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi, coi):
    return make_allocation(pi=pi, members=[coi])


@pytest.fixture
def newcomer(db) -> User:
    return make_user("new@lab.example", full_name="Nora Newcomer")


def current_members(allocation) -> list[str]:
    return sorted(
        allocation.members.filter(removed_at__isnull=True).values_list("user__email", flat=True)
    )


def audit(allocation) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(subject_type="allocation", subject_id=allocation.pk)
        .exclude(action="allocation.created")
        .order_by("pk")
        .values_list("action", "actor__email", "before", "after")
    )


# --- Services --------------------------------------------------------------------------------


def test_the_pi_adds_a_member_by_verified_address(allocation, pi, newcomer):
    membership = allocation_member_add(allocation=allocation, email=" NEW@lab.example ", by=pi)

    assert (membership.user, membership.added_by, membership.removed_at) == (newcomer, pi, None)
    assert current_members(allocation) == ["coi@lab.example", "new@lab.example", "pi@uni.example"]
    assert audit(allocation) == [
        ("allocation.member_added", "pi@uni.example", {}, {"member": "new@lab.example"})
    ]


def test_an_unverified_address_is_refused_with_a_clear_message(allocation, pi):
    user = User.objects.create_user(email="unverified@lab.example", password="x")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    with pytest.raises(ValidationError) as refused:
        allocation_member_add(allocation=allocation, email="unverified@lab.example", by=pi)

    assert refused.value.message_dict == {
        "email": [
            "No Allot account has the confirmed address unverified@lab.example. Ask them to sign "
            "up (or confirm this address in their account) and try again."
        ]
    }
    assert audit(allocation) == []


def test_an_unknown_address_is_refused(allocation, pi):
    with pytest.raises(ValidationError) as refused:
        allocation_member_add(allocation=allocation, email="nobody@else.example", by=pi)

    assert list(refused.value.message_dict) == ["email"]
    assert current_members(allocation) == ["coi@lab.example", "pi@uni.example"]


def test_a_second_verified_address_of_an_account_works(allocation, pi, newcomer):
    EmailAddress.objects.create(user=newcomer, email="nora@home.example", verified=True)

    membership = allocation_member_add(allocation=allocation, email="nora@home.example", by=pi)

    assert membership.user == newcomer


def test_a_current_member_cannot_be_added_twice(allocation, pi):
    with pytest.raises(ValidationError) as refused:
        allocation_member_add(allocation=allocation, email="coi@lab.example", by=pi)

    assert refused.value.message_dict == {
        "email": ["Carl Coinvestigator is already a member of " + allocation.account + "."]
    }


def test_a_removed_member_can_be_added_again(allocation, pi, coi):
    allocation_member_remove(membership=allocation.members.get(user=coi), by=pi)

    allocation_member_add(allocation=allocation, email="coi@lab.example", by=pi)

    assert current_members(allocation) == ["coi@lab.example", "pi@uni.example"]
    assert AllocationMember.objects.filter(allocation=allocation, user=coi).count() == 2


def test_only_the_pi_adds(allocation, coi, newcomer):
    with pytest.raises(PermissionDenied):
        allocation_member_add(allocation=allocation, email=newcomer.email, by=coi)
    with pytest.raises(PermissionDenied):
        allocation_member_add(allocation=allocation, email=newcomer.email, by=make_manager())


def test_the_pi_removes_a_member(allocation, pi, coi):
    membership = allocation.members.get(user=coi)

    allocation_member_remove(membership=membership, by=pi)

    membership.refresh_from_db()
    assert membership.removed_at is not None
    assert current_members(allocation) == ["pi@uni.example"]
    assert audit(allocation) == [
        ("allocation.member_removed", "pi@uni.example", {"member": "coi@lab.example"}, {})
    ]


def test_the_pi_cannot_remove_themself(allocation, pi):
    with pytest.raises(ValidationError) as refused:
        allocation_member_remove(membership=allocation.members.get(user=pi), by=pi)

    assert refused.value.messages == [
        "The principal investigator stays a member of the allocation."
    ]
    assert audit(allocation) == []


def test_a_removed_member_cannot_be_removed_again(allocation, pi, coi):
    membership = allocation.members.get(user=coi)
    allocation_member_remove(membership=membership, by=pi)

    with pytest.raises(ValidationError):
        allocation_member_remove(membership=membership, by=pi)

    assert len(audit(allocation)) == 1


def test_only_the_pi_removes(allocation, pi, coi):
    with pytest.raises(PermissionDenied):
        allocation_member_remove(membership=allocation.members.get(user=pi), by=coi)


# --- Views -----------------------------------------------------------------------------------


def add_url(allocation) -> str:
    return reverse("allocation_member_add", args=[allocation.pk])


def remove_url(allocation, membership) -> str:
    return reverse("allocation_member_remove", args=[allocation.pk, membership.pk])


def test_the_pi_adds_through_the_page(client, allocation, pi, newcomer):
    client.force_login(pi)

    response = client.post(add_url(allocation), {"email": "new@lab.example"}, follow=True)

    assert response.redirect_chain == [(reverse("allocation_detail", args=[allocation.pk]), 302)]
    assert f"Nora Newcomer is now a member of {allocation.account}." in response.content.decode()
    assert "new@lab.example" in current_members(allocation)


def test_an_unknown_address_shows_beside_the_field(client, allocation, pi):
    client.force_login(pi)

    response = client.post(add_url(allocation), {"email": "nobody@else.example"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "No Allot account has the confirmed address nobody@else.example." in page
    assert 'class="field field-invalid field-required"' in page


def test_a_malformed_address_is_refused(client, allocation, pi):
    client.force_login(pi)

    response = client.post(add_url(allocation), {"email": "not an address"})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert current_members(allocation) == ["coi@lab.example", "pi@uni.example"]


def test_the_pi_removes_through_the_page(client, allocation, pi, coi):
    client.force_login(pi)

    response = client.post(remove_url(allocation, allocation.members.get(user=coi)), follow=True)

    assert (
        f"Carl Coinvestigator is no longer a member of {allocation.account}."
        in response.content.decode()
    )
    assert current_members(allocation) == ["pi@uni.example"]


def test_removing_the_pi_through_the_page_says_why_not(client, allocation, pi):
    client.force_login(pi)

    response = client.post(remove_url(allocation, allocation.members.get(user=pi)), follow=True)

    assert (
        "The principal investigator stays a member of the allocation." in response.content.decode()
    )


def test_a_membership_of_another_allocation_is_404(client, allocation, pi, coi):
    other = make_allocation(pi=pi, members=[coi])
    client.force_login(pi)

    response = client.post(remove_url(allocation, other.members.get(user=coi)))

    assert response.status_code == 404
    assert current_members(other) == ["coi@lab.example", "pi@uni.example"]


@pytest.mark.parametrize(("who", "status"), [("coi", 403), ("manager", 403), ("outsider", 404)])
def test_only_the_pi_changes_members(client, allocation, coi, newcomer, who, status, request):
    client.force_login(make_manager() if who == "manager" else request.getfixturevalue(who))

    assert client.post(add_url(allocation), {"email": newcomer.email}).status_code == status
    membership = allocation.members.get(user=coi)
    assert client.post(remove_url(allocation, membership)).status_code == status
    assert current_members(allocation) == ["coi@lab.example", "pi@uni.example"]


def test_anonymous_is_sent_to_sign_in(client, allocation, coi):
    for url in [add_url(allocation), remove_url(allocation, allocation.members.get(user=coi))]:
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_get_is_not_allowed(client, allocation, pi, coi):
    client.force_login(pi)

    assert client.get(add_url(allocation)).status_code == 405
    assert client.get(remove_url(allocation, allocation.members.get(user=coi))).status_code == 405
