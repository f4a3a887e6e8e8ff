"""The predicates about people in a call, one by one."""

import pytest
from django.contrib.auth.models import AnonymousUser

from proposals.rules import can_manage_call, is_call_reviewer, is_committee_member
from proposals.services.calls import call_role_add
from tests.factories import make_call


@pytest.fixture
def call(db):
    return make_call("A 2027-1")


def test_committee_member_of_this_call(call, manager, committee):
    call_role_add(call=call, email=committee.email, role="committee", by=manager)

    assert is_committee_member(committee, call) is True
    assert is_call_reviewer(committee, call) is False
    assert is_committee_member(committee, make_call("B 2027-2")) is False


def test_reviewer_of_this_call(call, manager, reviewer):
    call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)

    assert is_call_reviewer(reviewer, call) is True
    assert is_committee_member(reviewer, call) is False
    assert is_call_reviewer(reviewer, make_call("B 2027-2")) is False


def test_a_pending_role_gives_nobody_anything(call, manager, outsider):
    call_role_add(call=call, email="nobody@lab.example", role="reviewer", by=manager)

    assert is_call_reviewer(outsider, call) is False


def test_anonymous_and_inactive_people_have_no_role(call, manager, reviewer):
    call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)
    reviewer.is_active = False

    assert is_call_reviewer(AnonymousUser(), call) is False
    assert is_committee_member(AnonymousUser(), call) is False
    assert is_call_reviewer(reviewer, call) is False


def test_only_call_managers_manage_calls(call, manager, pi, committee):
    assert can_manage_call(manager, call) is True
    assert can_manage_call(pi, call) is False
    assert can_manage_call(committee, call) is False
    assert can_manage_call(AnonymousUser(), call) is False
