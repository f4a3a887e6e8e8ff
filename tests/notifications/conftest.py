"""Outbox helpers: messages built by the services. The SMTP server (``smtp_server``) is in
``tests/smtp.py`` (registered in ``tests/conftest.py``); ``free_port`` stays importable here."""

from notifications.models import OutboxMessage
from notifications.services import outbox_queue_rendered
from tests.smtp import free_port  # noqa: F401  (imported from here by test_services)


def queue_message(number: int = 1, **fields) -> OutboxMessage:
    """A message queued through the service (sent only if the test runs on_commit callbacks)."""
    data = {
        "kind": "outbox-example",
        "event": f"example:{number}",
        "recipient": f"person{number}@uni.example",
        "subject": f"Example {number}",
        "body_text": f"Dear person {number},\n\nthis is an example.\n",
        "secret": False,
        **fields,
    }
    return outbox_queue_rendered(**data)
