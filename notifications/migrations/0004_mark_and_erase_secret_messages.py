# Data: mark the secret messages queued before 0003 and erase the bodies of those already sent
# or failed (PRODUCT §1.1). The kinds as they are at this migration: the team invitation, and
# every django-allauth account email but its notices (notifications.adapters.ACCOUNT_NOTICES).

from django.db import migrations
from django.db.models import Q

ACCOUNT_NOTICES = [
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
]


def mark_and_erase(apps, schema_editor):
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    secret = OutboxMessage.objects.filter(
        Q(kind="team-invitation") | Q(kind__startswith="account-")
    ).exclude(kind__in=[f"account-{name}" for name in ACCOUNT_NOTICES])
    secret.update(secret=True)
    secret.filter(status__in=["sent", "failed"]).update(body_text="", body_html="")


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_outboxmessage_secret'),
    ]

    operations = [
        migrations.RunPython(mark_and_erase, migrations.RunPython.noop),
    ]
