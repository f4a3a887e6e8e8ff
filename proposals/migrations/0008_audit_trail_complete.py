"""The audit trail keeps the names of the actor, the person concerned and the subject as they
read when the entry was written, and takes its time from the service (``at``).

The database refuses to change or delete an audit entry (PRODUCT §9: append-only), as it does
for the ledger (allocations 0003); the model refuses too. One change is let through: deleting
a person clears their links (``actor``, ``person``: SET NULL) and nothing else, so the names
kept stay. The triggers are created last: SQLite rebuilds a table to alter it, dropping them.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# Every column but the two links a person's deletion may clear.
KEPT = (
    "id",
    "call_id",
    "subject_type",
    "subject_id",
    "subject_name",
    "action",
    "actor_name",
    "person_name",
    "before",
    "after",
    "created_at",
)
CLEARED = ("actor_id", "person_id")


def _only_links_cleared(new: str, old: str) -> str:
    kept = " AND ".join(f"{new}.{c} IS NOT DISTINCT FROM {old}.{c}" for c in KEPT)
    cleared = " AND ".join(
        f"({new}.{c} IS NULL OR {new}.{c} IS NOT DISTINCT FROM {old}.{c})" for c in CLEARED
    )
    return f"{kept} AND {cleared}"


POSTGRESQL_FORWARD = f"""
CREATE OR REPLACE FUNCTION allot_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_only_links_cleared("NEW", "OLD")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allot_audit_append_only
    BEFORE UPDATE OR DELETE ON proposals_auditentry
    FOR EACH ROW EXECUTE FUNCTION allot_audit_append_only();
"""

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS allot_audit_append_only ON proposals_auditentry;
DROP FUNCTION IF EXISTS allot_audit_append_only();
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER allot_audit_append_only_update
    BEFORE UPDATE ON proposals_auditentry
    WHEN NOT ({_only_links_cleared("NEW", "OLD").replace("IS NOT DISTINCT FROM", "IS")})
    BEGIN
        SELECT RAISE(ABORT, 'audit entries are append-only');
    END;
    """,
    """
    CREATE TRIGGER allot_audit_append_only_delete
    BEFORE DELETE ON proposals_auditentry
    BEGIN
        SELECT RAISE(ABORT, 'audit entries are append-only');
    END;
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS allot_audit_append_only_update;",
    "DROP TRIGGER IF EXISTS allot_audit_append_only_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"The audit trigger is written for PostgreSQL and SQLite, not {vendor}.")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0007_call_opened_announced_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="actor_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="person_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="subject_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["created_at"], name="audit_created_at"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action", "created_at"], name="audit_action_created_at"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["actor", "created_at"], name="audit_actor_created_at"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["person", "created_at"], name="audit_person_created_at"),
        ),
        migrations.RunPython(forward, backward),
    ]
