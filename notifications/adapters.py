"""allauth's account adapter with every account email through the outbox (PRODUCT §7).

``ACCOUNT_ADAPTER`` names this class. It lives here, not in ``accounts``, because the apps are
in layers (``accounts`` is the lowest and imports no other) and the outbox is ours.
"""

import uuid

from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from accounts.adapters import AccountAdapter as ProfileFirstAccountAdapter
from notifications.services import outbox_queue_rendered

# allauth's notices: emails built on its ``base_notification.txt`` that only tell that something
# changed, with no link or code that acts for the recipient. Every other account email (a
# confirmation link or code, a password reset link or code, a sign-in code, "an account already
# exists", and any template a later allauth adds) carries a secret: the outbox shows its body
# to nobody and erases it once sent (PRODUCT §1.1). ``tests/notifications/test_secret_emails.py``
# reads allauth's templates to hold this list to that.
ACCOUNT_NOTICES = frozenset(
    {
        "email_changed",
        "email_confirm",
        "email_deleted",
        "password_changed",
        "password_reset",
        "password_set",
        "recovery_codes_generated",
        "totp_activated",
        "totp_deactivated",
        "webauthn_added",
        "webauthn_removed",
    }
)


def account_email_carries_secret(template: str) -> bool:
    """Whether allauth's email ``template`` (e.g. ``password_reset_key``) carries a secret."""
    return template not in ACCOUNT_NOTICES


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
            secret=account_email_carries_secret(kind),
        )
