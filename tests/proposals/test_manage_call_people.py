"""The people of a call: committee and reviewer pool, added by email, removed by button."""

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import OutboxMessage
from proposals.calls.models import CallRole
from proposals.calls.selectors import REVIEWER_POOL_PAGE_SIZE
from proposals.calls.services import call_role_add
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposals.helpers import assert_guarded


def url(call) -> str:
    return reverse("manage_call_people", args=[call.pk])


def remove_url(role) -> str:
    return reverse("manage_call_role_remove", args=[role.call_id, role.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_page_lists_committee_and_reviewers_with_their_profiles(
    manager_client, manager, reviewer, committee
):
    call = make_call()
    call_role_add(call=call, email=reviewer.email, role="reviewer", max_load=4, by=manager)
    call_role_add(call=call, email=committee.email, role="committee", by=manager)
    call_role_add(call=call, email="new.expert@lab.example", role="reviewer", by=manager)

    response = manager_client.get(url(call))

    assert response.status_code == 200
    people = response.context["people"]
    assert [role.email for role in people.committee] == ["committee@board.example"]
    assert [role.email for role in people.reviewers] == [
        "new.expert@lab.example",
        "reviewer@inst.example",
    ]
    html = response.content.decode()
    for expected in [
        "Rita Reviewer",
        "Inst Example",
        "PE6",
        '<td class="num" data-label="Maximum reviews">4</td>',
        "Conrad Committee",
        "pending sign-up",
        'th scope="col"',
    ]:
        assert expected in html, expected


def test_manager_adds_a_reviewer_by_email(manager_client, reviewer):
    call = make_call()

    response = manager_client.post(
        url(call), {"email": "Reviewer@Inst.example", "role": "reviewer", "max_load": "6"}
    )

    assert response.status_code == 302
    assert response["Location"] == url(call)
    assert messages_of(response) == ["Reviewer@Inst.example added as reviewer."]
    role = CallRole.objects.get()
    assert (role.call, role.role, role.user, role.max_load) == (call, "reviewer", reviewer, 6)


def test_adding_the_same_person_twice_says_already(manager_client, reviewer):
    call = make_call()
    data = {"email": reviewer.email, "role": "reviewer", "max_load": "6"}
    manager_client.post(url(call), data, follow=True)  # shows and so consumes its message

    response = manager_client.post(url(call), {**data, "email": reviewer.email.upper()})

    assert messages_of(response) == [
        "reviewer@inst.example is already listed as reviewer in this call."
    ]
    assert CallRole.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="call-role-added").count() == 1


def test_committee_members_have_no_review_load(manager_client, committee):
    call = make_call()

    manager_client.post(url(call), {"email": committee.email, "role": "committee", "max_load": "6"})

    assert CallRole.objects.get().max_load is None


def test_invalid_add_keeps_the_typed_values(manager_client):
    call = make_call()

    response = manager_client.post(
        url(call), {"email": "not-an-email", "role": "reviewer", "max_load": "0"}
    )

    assert response.status_code == 200
    assert dict(response.context["form"].errors) == {
        "email": ["Enter a valid email address."],
        "max_load": ["Ensure this value is greater than or equal to 1."],
    }
    html = response.content.decode()
    assert 'value="not-an-email"' in html
    assert 'value="0"' in html
    assert '<option value="reviewer" selected>' in html
    assert CallRole.objects.count() == 0


def test_manager_removes_a_person(manager_client, manager, reviewer):
    call = make_call()
    role, _ = call_role_add(call=call, email=reviewer.email, role="reviewer", by=manager)

    response = manager_client.post(remove_url(role))

    assert response.status_code == 302
    assert response["Location"] == url(call)
    assert messages_of(response) == [
        "reviewer@inst.example is no longer listed as reviewer in this call."
    ]
    assert CallRole.objects.count() == 0


def test_a_role_of_another_call_cannot_be_removed_through_this_one(manager_client, manager):
    call, other = make_call("A 2027-1"), make_call("B 2027-2")
    role, _ = call_role_add(call=other, email="x@y.example", role="reviewer", by=manager)

    response = manager_client.post(reverse("manage_call_role_remove", args=[call.pk, role.pk]))

    assert response.status_code == 404
    assert CallRole.objects.count() == 1


def test_remove_needs_post(manager_client, manager):
    role, _ = call_role_add(call=make_call(), email="x@y.example", role="reviewer", by=manager)

    assert manager_client.get(remove_url(role)).status_code == 405


def test_guarded_for_anonymous_applicants_and_managers_without_mfa(client, pi):
    assert_guarded(client, pi, url(make_call()))


def test_remove_is_guarded(client, pi, manager):
    role, _ = call_role_add(call=make_call(), email="x@y.example", role="reviewer", by=manager)

    assert_guarded(client, pi, remove_url(role), method="post")
    assert CallRole.objects.count() == 1


def test_applicant_cannot_add_people(pi_client):
    call = make_call()

    response = pi_client.post(url(call), {"email": "me@uni.example", "role": "committee"})

    assert response.status_code == 403
    assert CallRole.objects.count() == 0


def test_unknown_call_is_404(manager_client):
    assert manager_client.get(reverse("manage_call_people", args=[999])).status_code == 404


def test_other_methods_are_not_allowed(manager_client):
    assert manager_client.put(url(make_call())).status_code == 405


def _count_queries(client, call) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(call)).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_people(manager_client, manager):
    call = make_call()
    for role in ("reviewer", "committee"):
        call_role_add(call=call, email=f"{role}0@x.example", role=role, by=manager)
    one = _count_queries(manager_client, call)

    for index in (1, 2):
        make_user(f"reviewer{index}@x.example")
        for role in ("reviewer", "committee"):
            call_role_add(call=call, email=f"{role}{index}@x.example", role=role, by=manager)
    three = _count_queries(manager_client, call)

    assert one == three


def test_the_reviewer_pool_is_read_a_page_at_a_time(manager_client, manager):
    """A JUPITER call has 600 reviewers: the page builds 100 rows and says how many there are."""
    call = make_call()
    CallRole.objects.bulk_create(
        CallRole(call=call, email=f"r{i:03d}@pool.example", role="reviewer", added_by=manager)
        for i in range(REVIEWER_POOL_PAGE_SIZE + 1)
    )

    first = manager_client.get(url(call))
    second = manager_client.get(url(call) + "?page=2")

    assert len(first.context["people"].reviewers.object_list) == REVIEWER_POOL_PAGE_SIZE
    assert [role.email for role in second.context["people"].reviewers] == ["r100@pool.example"]
    assert f'Reviewer pool <span class="count">({REVIEWER_POOL_PAGE_SIZE + 1})</span>' in (
        first.content.decode()
    )
    assert "Page 2 of 2" in second.content.decode()
