"""Roles waiting for an address go to whoever verifies it."""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed

from accounts.models import User
from proposals.calls.models import CallRole
from proposals.calls.services import call_role_add, call_roles_claim
from tests.factories import make_call


def sign_up(email: str, *, verified: bool = True) -> EmailAddress:
    user = User.objects.create_user(email=email, password="x")
    return EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)


def test_confirming_an_address_claims_its_pending_roles(manager):
    first, second = make_call("A 2027-1"), make_call("B 2027-2")
    call_role_add(call=first, email="New.Expert@lab.example", role="reviewer", by=manager)
    call_role_add(call=second, email="new.expert@lab.example", role="committee", by=manager)
    address = sign_up("new.expert@lab.example")

    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)

    assert {(role.call.code, role.role, role.user) for role in CallRole.objects.all()} == {
        ("A 2027-1", "reviewer", address.user),
        ("B 2027-2", "committee", address.user),
    }


def test_claim_returns_how_many_roles_it_linked(manager):
    call = make_call()
    call_role_add(call=call, email="new@lab.example", role="reviewer", by=manager)
    call_role_add(call=call, email="other@lab.example", role="reviewer", by=manager)
    address = sign_up("new@lab.example")

    assert call_roles_claim(user=address.user, email="NEW@lab.example") == 1
    assert call_roles_claim(user=address.user, email="new@lab.example") == 0
    assert CallRole.objects.get(email="other@lab.example").user is None


def test_a_role_linked_to_someone_stays_theirs(manager, reviewer):
    call = make_call()
    role, _ = call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)
    impostor = User.objects.create_user(email="x@lab.example", password="x")

    assert call_roles_claim(user=impostor, email=reviewer.email) == 0
    role.refresh_from_db()
    assert role.user == reviewer
