"""The outbox in Django's admin: visible, filterable, never editable."""

import pytest
from django.urls import reverse

from notifications.models import OutboxMessage
from tests.conftest import make_superuser
from tests.notifications.conftest import queue_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(make_superuser("root@centre.example"))
    return client


def test_changelist_lists_and_filters_messages(admin_client_):
    queue_message(1)
    queue_message(2)

    response = admin_client_.get(
        reverse("admin:notifications_outboxmessage_changelist"), {"status__exact": "queued"}
    )

    assert response.status_code == 200
    assert [m.event for m in response.context["cl"].result_list] == ["example:2", "example:1"]
    assert [spec.title for spec in response.context["cl"].filter_specs] == [
        "status",
        "kind",
        "carries a private link",
        "queued at",
        "sent at",
    ]


def test_message_can_be_viewed_but_not_changed(admin_client_):
    message = queue_message(1)
    url = reverse("admin:notifications_outboxmessage_change", args=[message.pk])

    page = admin_client_.get(url)
    post = admin_client_.post(url, {"status": "sent"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    assert OutboxMessage.objects.get().status == "queued"


def test_messages_cannot_be_added_or_deleted(admin_client_):
    message = queue_message(1)

    add = admin_client_.get(reverse("admin:notifications_outboxmessage_add"))
    delete = admin_client_.post(
        reverse("admin:notifications_outboxmessage_delete", args=[message.pk]), {"post": "yes"}
    )

    assert (add.status_code, delete.status_code) == (403, 403)
    assert OutboxMessage.objects.count() == 1
