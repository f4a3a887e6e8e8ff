"""django-allauth's account emails go through the outbox (notifications/adapters.py)."""

import pytest

from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_up_queues_the_confirmation_in_the_outbox_and_sends_it_once(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"email": "new.person@uni.example", "password1": PASSWORD, "password2": PASSWORD},
        )

    assert response.status_code == 302
    message = OutboxMessage.objects.get()
    assert message.kind == "account-email_confirmation_signup"
    assert message.event.startswith("account:email_confirmation_signup:")
    assert message.recipient == "new.person@uni.example"
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@uni.example"]
    assert mailoutbox[0].subject == "[Allot] Confirm your email address"
    assert mailoutbox[0].subject == message.subject
    assert "http://testserver/accounts/confirm-email/" in mailoutbox[0].body
