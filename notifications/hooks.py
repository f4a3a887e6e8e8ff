"""What the apps above the outbox tell it, registered once at start-up.

A secret message (PRODUCT §1.1: a link that acts for its recipient) loses its body once it is
sent or has failed for good, so a manager's retry of a failed one needs a fresh link. The app
that makes such a link registers, for its kind, how to build the email's context again with
a new link (``secret_context_register``); it raises ``ValidationError`` with the reason when it
cannot (the invitation was answered meanwhile). A secret kind without one (django-allauth's
resets and confirmations) is never sent again by a retry: the person asks for a new link.
``tests/notifications/test_secret_emails.py`` checks the team invitation's is registered.
"""

from collections.abc import Callable
from typing import Any

from notifications.models import OutboxMessage

# ``(message) -> context`` of ``templates/emails/<message.kind>/``, with a fresh link.
SecretContext = Callable[[OutboxMessage], dict[str, Any]]

secret_contexts: dict[str, SecretContext] = {}


def secret_context_register(kind: str, build: SecretContext) -> None:
    secret_contexts[kind] = build
