"""Adding a person to a call by email: linked to their account or waiting for it."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import User
from notifications.models import OutboxMessage
from proposals.calls.models import CallRole
from proposals.calls.services import call_role_add, call_role_remove
from tests.conftest import make_user
from tests.factories import make_call


@pytest.fixture
def call(db):
    return make_call("JUPITER 2027-1")


def role_emails() -> list[tuple[str, str]]:
    return [
        (message.recipient, message.subject)
        for message in OutboxMessage.objects.filter(kind="call-role-added").order_by("id")
    ]


def test_an_existing_account_is_linked_by_its_verified_address(call, manager, reviewer):
    role, created = call_role_add(
        call=call, email="  REVIEWER@inst.example ", role="reviewer", max_load=5, by=manager
    )

    assert created is True
    role.refresh_from_db()
    assert (role.user, role.email, role.max_load, role.added_by) == (
        reviewer,
        "REVIEWER@inst.example",
        5,
        manager,
    )


def test_a_secondary_verified_address_links_too(call, manager, reviewer):
    EmailAddress.objects.create(
        user=reviewer, email="rita@home.example", verified=True, primary=False
    )

    role, _ = call_role_add(call=call, email="rita@home.example", role="reviewer", by=manager)

    assert role.user == reviewer


def test_an_account_without_allauth_address_links_by_its_email(call, manager):
    operator = User.objects.create_user(
        email="ops@centre.example", password="x"
    )  # createsuperuser-style

    role, _ = call_role_add(call=call, email="Ops@Centre.example", role="committee", by=manager)

    assert role.user == operator


def test_an_unverified_sign_up_does_not_get_the_role(call, manager):
    stranger = User.objects.create_user(email="claimed@lab.example", password="x")
    EmailAddress.objects.create(
        user=stranger, email="claimed@lab.example", verified=False, primary=True
    )

    role, _ = call_role_add(call=call, email="claimed@lab.example", role="reviewer", by=manager)

    assert role.user is None


def test_an_unknown_address_waits_for_sign_up(call, manager):
    role, created = call_role_add(
        call=call, email="new.expert@lab.example", role="reviewer", by=manager
    )

    assert created is True
    assert role.user is None


def test_the_role_email_goes_to_the_added_address_with_its_subject(
    call, manager, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_role_add(call=call, email=reviewer.email, role="reviewer", max_load=3, by=manager)
        call_role_add(call=call, email="new.member@board.example", role="committee", by=manager)

    assert role_emails() == [
        ("reviewer@inst.example", "[Allot] You are a reviewer for JUPITER 2027-1"),
        (
            "new.member@board.example",
            "[Allot] You are on the allocation committee of JUPITER 2027-1",
        ),
    ]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["reviewer@inst.example"], "[Allot] You are a reviewer for JUPITER 2027-1"),
        (
            ["new.member@board.example"],
            "[Allot] You are on the allocation committee of JUPITER 2027-1",
        ),
    ]
    reviewer_body, committee_body = (m.body for m in mail.outbox)
    assert "You will be asked to review at most 3 proposals." in reviewer_body
    assert "Sign in to Allot with this address (reviewer@inst.example)" in reviewer_body
    assert f"http://127.0.0.1:8000/calls/{call.pk}/" in reviewer_body
    assert "Please sign up with this address (new.member@board.example)" in committee_body
    assert "http://127.0.0.1:8000/accounts/signup/" in committee_body


def test_the_email_event_names_the_role(call, manager):
    role, _ = call_role_add(call=call, email="x@lab.example", role="reviewer", by=manager)

    message = OutboxMessage.objects.get()
    assert (message.event, message.user) == (f"call-role-added:{role.pk}", None)


def test_adding_twice_keeps_one_role_and_sends_one_email(call, manager, reviewer):
    first, _ = call_role_add(
        call=call, email=reviewer.email, role="reviewer", max_load=3, by=manager
    )

    again, created = call_role_add(
        call=call, email="Reviewer@Inst.Example", role="reviewer", max_load=9, by=manager
    )

    assert (created, again.pk, again.max_load) == (False, first.pk, 3)
    assert CallRole.objects.count() == 1
    assert role_emails() == [
        ("reviewer@inst.example", "[Allot] You are a reviewer for JUPITER 2027-1")
    ]


def test_one_person_can_be_reviewer_and_committee_member(call, manager, reviewer):
    call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)
    call_role_add(call=call, email=reviewer.email, role="committee", by=manager)

    assert sorted(CallRole.objects.values_list("role", flat=True)) == ["committee", "reviewer"]
    assert len(role_emails()) == 2


def test_the_same_address_in_another_call_is_another_role(manager, reviewer):
    first, second = make_call("A 2027-1"), make_call("B 2027-2")

    call_role_add(call=first, email=reviewer.email, role="reviewer", by=manager)
    call_role_add(call=second, email=reviewer.email, role="reviewer", by=manager)

    assert CallRole.objects.count() == 2


def test_removed_then_added_again_sends_a_new_email(call, manager):
    role, _ = call_role_add(call=call, email="x@lab.example", role="reviewer", by=manager)
    call_role_remove(role=role, by=manager)

    call_role_add(call=call, email="x@lab.example", role="reviewer", by=manager)

    assert CallRole.objects.count() == 1
    assert len(role_emails()) == 2


def test_a_committee_member_has_no_review_load(call, manager):
    role, _ = call_role_add(
        call=call, email="c@board.example", role="committee", max_load=5, by=manager
    )

    assert role.max_load is None


def test_make_user_persona_is_linked(call, manager):
    person = make_user("someone@inst.example")

    role, _ = call_role_add(call=call, email="someone@inst.example", role="reviewer", by=manager)

    assert role.user == person


def test_a_technical_reviewer_is_told_their_own_role(
    manager, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    from proposals.calls.enums import CallRoleKind
    from proposals.calls.services import call_role_add
    from tests.factories import make_call

    call = make_call()
    with django_capture_on_commit_callbacks(execute=True):
        call_role_add(call=call, email=reviewer.email, role=CallRoleKind.TECHNICAL, by=manager)

    [email] = mailoutbox
    assert email.to == [reviewer.email]
    assert email.subject == "[Allot] You are a technical reviewer for JUPITER 2027-1"
    assert "technical reviewer of the call JUPITER 2027-1" in email.body
