"""allauth's account adapter with every account email through the outbox (PRODUCT §7).

``ACCOUNT_ADAPTER`` names this class. It lives here, not in ``accounts``, because the apps are
in layers (``accounts`` is the lowest and imports no other) and the outbox is ours.
"""

import uuid

from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from accounts.adapters import AccountAdapter as ProfileFirstAccountAdapter
from notifications.services import outbox_queue_rendered


class AccountAdapter(ProfileFirstAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"email": email, "current_site": get_current_site(request), **context}
        message = self.render_mail(template_prefix, email, ctx)
        html = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"),
            "",
        )
        kind = template_prefix.rsplit("/", 1)[-1]
        outbox_queue_rendered(
            kind=f"account-{kind}",
            # Every account email (a confirmation, a reset) is its own event.
            event=f"account:{kind}:{uuid.uuid4()}",
            recipient=email,
            subject=message.subject,
            body_text=message.body,
            body_html=html,
        )
