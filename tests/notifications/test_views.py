"""The managers' outbox pages: list, detail and retry."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from tests.conftest import make_manager
from tests.notifications.conftest import queue_message

pytestmark = pytest.mark.django_db

LIST = reverse("outbox_list")


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def failed_message(smtp_server, django_capture_on_commit_callbacks) -> OutboxMessage:
    smtp_server.data_replies = ["554 5.7.1 Message rejected"]
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(7, recipient="failing@uni.example")
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    return message


# --- who may see the outbox -------------------------------------------------------------


def test_manager_sees_the_messages_newest_first(manager_client):
    older = queue_message(1)
    newer = queue_message(2)

    response = manager_client.get(LIST)

    assert response.status_code == 200
    assert list(response.context["page_obj"]) == [newer, older]
    page = response.content.decode()
    assert "person1@uni.example" in page
    assert "person2@uni.example" in page
    assert page.index("person2@uni.example") < page.index("person1@uni.example")
    assert f'href="{reverse("outbox_detail", args=[older.pk])}"' in page


@pytest.mark.parametrize(
    ("name", "method"),
    [("outbox_list", "get"), ("outbox_detail", "get"), ("outbox_retry", "post")],
)
def test_applicant_is_forbidden(name, method, client, pi):
    message = queue_message(1)
    args = [] if name == "outbox_list" else [message.pk]
    client.force_login(pi)

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == 403
    assert OutboxMessage.objects.get().status == MessageStatus.QUEUED


@pytest.mark.parametrize(
    ("name", "method"),
    [("outbox_list", "get"), ("outbox_detail", "get"), ("outbox_retry", "post")],
)
def test_anonymous_is_sent_to_sign_in(name, method, client):
    message = queue_message(1)
    url = reverse(name, args=[] if name == "outbox_list" else [message.pk])

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


def test_manager_without_two_factor_authentication_is_sent_to_set_it_up(client):
    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))

    response = client.get(LIST)

    assert response.status_code == 302
    assert response.url == f"{reverse('mfa_activate_totp')}?next=%2Foutbox%2F"


# --- the list ------------------------------------------------------------------------------


def test_summary_counts_every_status(manager_client, failed_message):
    queue_message(1)
    queue_message(2)

    response = manager_client.get(LIST)

    assert [(status.value, count) for status, count in response.context["status_counts"]] == [
        ("queued", 2),
        ("sending", 0),
        ("sent", 0),
        ("failed", 1),
    ]


def test_filter_by_status(manager_client, failed_message):
    queue_message(1)

    response = manager_client.get(LIST, {"status": "failed"})

    assert list(response.context["page_obj"]) == [failed_message]


@pytest.mark.parametrize(
    ("search", "expected"),
    [("PERSON2@uni", ["example:2"]), ("example:1", ["example:1"]), ("nobody", [])],
)
def test_search_on_recipient_or_event(search, expected, manager_client):
    queue_message(1)
    queue_message(2)

    response = manager_client.get(LIST, {"q": search})

    assert [message.event for message in response.context["page_obj"]] == expected
    if not expected:
        assert "No messages match these filters." in response.content.decode()


def test_unknown_status_filter_shows_everything_and_says_why(manager_client):
    queue_message(1)

    response = manager_client.get(LIST, {"status": "lost"})

    assert response.status_code == 200
    assert [message.event for message in response.context["page_obj"]] == ["example:1"]
    assert response.context["form"].errors == {
        "status": ["Select a valid choice. lost is not one of the available choices."]
    }


def test_pages_hold_fifty_messages(manager_client):
    for number in range(1, 52):
        queue_message(number)

    first = manager_client.get(LIST, {"q": "example"})
    second = manager_client.get(LIST, {"q": "example", "page": 2})

    assert len(first.context["page_obj"]) == 50
    assert [message.event for message in second.context["page_obj"]] == ["example:1"]
    assert 'href="?q=example&amp;page=2"' in first.content.decode()


def test_failed_message_has_a_retry_button_and_others_do_not(manager_client, failed_message):
    queue_message(1)

    page = manager_client.get(LIST).content.decode()

    assert page.count('/retry/"') == 1
    assert f'action="{reverse("outbox_retry", args=[failed_message.pk])}"' in page


def test_list_issues_the_same_queries_for_one_and_three_messages(manager_client, manager):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(LIST)
        assert response.status_code == 200
        return len(queries)

    queue_message(1)
    with_one = queries_for_list()
    queue_message(2)
    queue_message(3, user=manager)
    with_three = queries_for_list()

    # session, user (with the managers' group), the menu's committees, per-status counts,
    # page count, page rows (the second factor is read from the session)
    assert (with_one, with_three) == (6, 6)


# --- the detail page -----------------------------------------------------------------------


def test_detail_shows_the_whole_text(manager_client, manager):
    message = queue_message(1, user=manager, body_text="Dear Marta,\n\n<all> of it & more.\n")

    response = manager_client.get(reverse("outbox_detail", args=[message.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<pre>Dear Marta,\n\n&lt;all&gt; of it &amp; more.\n</pre>" in page
    assert "example:1" in page


def test_detail_of_an_unknown_message_is_404(manager_client):
    assert manager_client.get(reverse("outbox_detail", args=[404404])).status_code == 404


# --- retry ---------------------------------------------------------------------------------


def test_retry_queues_the_failed_message_then_sends_it(
    manager_client, failed_message, smtp_server, django_capture_on_commit_callbacks
):
    back = f"{LIST}?status=failed"
    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(
            reverse("outbox_retry", args=[failed_message.pk]), {"next": back}
        )

    assert response.status_code == 302
    assert response.url == back
    assert flash(response) == ["The message to failing@uni.example is queued again."]
    failed_message.refresh_from_db()
    assert (failed_message.status, failed_message.attempts) == (MessageStatus.QUEUED, 0)

    for callback in callbacks:
        callback()

    failed_message.refresh_from_db()
    assert (failed_message.status, failed_message.attempts) == (MessageStatus.SENT, 1)
    assert [envelope.rcpt_tos for envelope in smtp_server.received] == [["failing@uni.example"]]


def test_retry_of_a_message_that_has_not_failed_says_so(
    manager_client, django_capture_on_commit_callbacks
):
    message = queue_message(1)

    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(reverse("outbox_retry", args=[message.pk]))

    assert response.status_code == 302
    assert response.url == LIST
    assert flash(response) == [
        "Only failed messages can be retried; the status of this one is “Queued”."
    ]
    assert callbacks == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)


def test_retry_does_not_redirect_to_another_site(manager_client, failed_message):
    response = manager_client.post(
        reverse("outbox_retry", args=[failed_message.pk]), {"next": "https://evil.example/"}
    )

    assert response.url == LIST


def test_retry_of_an_unknown_message_is_404(manager_client):
    assert manager_client.post(reverse("outbox_retry", args=[404404])).status_code == 404


# --- methods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("outbox_list", "post"),
        ("outbox_detail", "post"),
        ("outbox_retry", "get"),
        ("outbox_retry", "delete"),
    ],
)
def test_wrong_method_is_405(name, method, manager_client):
    message = queue_message(1)
    url = reverse(name, args=[] if name == "outbox_list" else [message.pk])

    response = getattr(manager_client, method)(url)

    assert response.status_code == 405
    assert OutboxMessage.objects.get().status == MessageStatus.QUEUED
