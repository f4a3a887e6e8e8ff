"""A detected conflict whose cause is gone is withdrawn (PRODUCT §5.1): a new status.

SQLite rebuilds the table to change its check constraint, and its triggers on reviews name
the conflict table: they are dropped before and created again after (PostgreSQL alters the
constraint in place and keeps its triggers).
"""

import importlib

from django.db import migrations, models

triggers = importlib.import_module("proposals.migrations.0005_conflict_triggers")


def sqlite_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in triggers.SQLITE_BACKWARD:
            schema_editor.execute(statement)


def sqlite_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in triggers.SQLITE_FORWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0010_proposal_continues")]

    operations = [
        migrations.RunPython(sqlite_drop, sqlite_create),
        migrations.RemoveConstraint(model_name="conflict", name="conflict_status_valid"),
        migrations.AlterField(
            model_name="conflict",
            name="status",
            field=models.CharField(
                choices=[
                    ("detected", "Detected, to be checked"),
                    ("confirmed", "Confirmed"),
                    ("dismissed", "Dismissed"),
                    ("declared", "Declared by the reviewer"),
                    ("withdrawn", "Withdrawn: its cause is gone"),
                ],
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="conflict",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["detected", "confirmed", "dismissed", "declared", "withdrawn"])
                ),
                name="conflict_status_valid",
            ),
        ),
        migrations.RunPython(sqlite_create, sqlite_drop),
    ]
