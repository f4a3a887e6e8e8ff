# PRODUCT §1.1: a sent or failed secret message has no body (after 0004 erased the old ones).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0004_mark_and_erase_secret_messages'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.CheckConstraint(condition=models.Q(('secret', False), ('status__in', ['queued', 'sending']), models.Q(('body_html', ''), ('body_text', '')), _connector='OR'), name='outbox_secret_body_erased'),
        ),
    ]
