"""The database refuses to change or delete a ledger entry (PRODUCT §8: append-only).

The model and its queryset refuse too; these triggers hold for any code or SQL console.
"""

from django.db import migrations

POSTGRESQL_FORWARD = """
CREATE OR REPLACE FUNCTION allot_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allot_ledger_append_only
    BEFORE UPDATE OR DELETE ON allocations_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION allot_ledger_append_only();
"""

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS allot_ledger_append_only ON allocations_ledgerentry;
DROP FUNCTION IF EXISTS allot_ledger_append_only();
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER allot_ledger_append_only_{event.lower()}
    BEFORE {event} ON allocations_ledgerentry
    BEGIN
        SELECT RAISE(ABORT, 'ledger entries are append-only');
    END;
    """
    for event in ("UPDATE", "DELETE")
]

SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS allot_ledger_append_only_{event};" for event in ("update", "delete")
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"The ledger trigger is written for PostgreSQL and SQLite, not {vendor}.")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0002_allocations")]
    operations = [migrations.RunPython(forward, backward)]
