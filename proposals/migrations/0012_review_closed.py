"""Publishing the decisions closes every pending review invitation and draft (PRODUCT §6): a
new review state, closed.

SQLite rebuilds the table to change its check constraint; the conflict triggers are dropped
before and created again after (as in 0008).
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


STATES = [
    ("invited", "Invited"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
    ("submitted", "Submitted"),
    ("removed", "Removed by a manager"),
    ("closed", "Closed: the decisions were published"),
]


class Migration(migrations.Migration):
    dependencies = [("proposals", "0011_conflict_withdrawn")]

    operations = [
        migrations.RunPython(sqlite_drop, sqlite_create),
        migrations.RemoveConstraint(model_name="review", name="review_state_valid"),
        migrations.AlterField(
            model_name="review",
            name="state",
            field=models.CharField(
                choices=STATES, default="invited", max_length=16, verbose_name="state"
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", [value for value, _label in STATES])),
                name="review_state_valid",
            ),
        ),
        migrations.RunPython(sqlite_create, sqlite_drop),
    ]
