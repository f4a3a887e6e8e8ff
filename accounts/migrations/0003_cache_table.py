"""The database cache's table (settings.CACHES without CACHE_URL), created where every
deployment already runs ``migrate``, so no separate ``createcachetable`` step can be
forgotten. With a Redis CACHE_URL there is nothing to create."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_notify_new_calls")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
