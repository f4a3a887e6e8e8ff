"""The database refuses an active review of a pair with a confirmed or declared conflict.

A check constraint cannot look at another table, so two triggers keep the invariant of
PRODUCT §5.1 whatever code writes: one on reviews (no active review of a blocked pair), one on
conflicts (no blocking status while the pair has an active review). Both raise an integrity
error. Written for PostgreSQL and SQLite, the two databases Allot runs on.
"""

from django.db import migrations

ACTIVE = "('invited', 'accepted', 'submitted')"
BLOCKING = "('confirmed', 'declared')"

POSTGRESQL_FORWARD = f"""
CREATE OR REPLACE FUNCTION allot_review_without_conflict() RETURNS trigger AS $$
BEGIN
    IF NEW.state IN {ACTIVE} AND EXISTS (
        SELECT 1 FROM proposals_conflict c
        WHERE c.proposal_id = NEW.proposal_id AND c.reviewer_id = NEW.reviewer_id
          AND c.status IN {BLOCKING}
    ) THEN
        RAISE EXCEPTION 'conflict of interest: reviewer % may not review proposal %',
            NEW.reviewer_id, NEW.proposal_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allot_review_without_conflict
    BEFORE INSERT OR UPDATE ON proposals_review
    FOR EACH ROW EXECUTE FUNCTION allot_review_without_conflict();

CREATE OR REPLACE FUNCTION allot_conflict_without_review() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN {BLOCKING} AND EXISTS (
        SELECT 1 FROM proposals_review r
        WHERE r.proposal_id = NEW.proposal_id AND r.reviewer_id = NEW.reviewer_id
          AND r.state IN {ACTIVE}
    ) THEN
        RAISE EXCEPTION 'conflict of interest: remove the review of proposal % by reviewer % first',
            NEW.proposal_id, NEW.reviewer_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allot_conflict_without_review
    BEFORE INSERT OR UPDATE ON proposals_conflict
    FOR EACH ROW EXECUTE FUNCTION allot_conflict_without_review();
"""

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS allot_review_without_conflict ON proposals_review;
DROP FUNCTION IF EXISTS allot_review_without_conflict();
DROP TRIGGER IF EXISTS allot_conflict_without_review ON proposals_conflict;
DROP FUNCTION IF EXISTS allot_conflict_without_review();
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER allot_review_without_conflict_{event.lower()}
    BEFORE {event} ON proposals_review
    WHEN NEW.state IN {ACTIVE} AND EXISTS (
        SELECT 1 FROM proposals_conflict c
        WHERE c.proposal_id = NEW.proposal_id AND c.reviewer_id = NEW.reviewer_id
          AND c.status IN {BLOCKING})
    BEGIN
        SELECT RAISE(ABORT, 'conflict of interest: this reviewer may not review this proposal');
    END;
    """
    for event in ("INSERT", "UPDATE")
] + [
    f"""
    CREATE TRIGGER allot_conflict_without_review_{event.lower()}
    BEFORE {event} ON proposals_conflict
    WHEN NEW.status IN {BLOCKING} AND EXISTS (
        SELECT 1 FROM proposals_review r
        WHERE r.proposal_id = NEW.proposal_id AND r.reviewer_id = NEW.reviewer_id
          AND r.state IN {ACTIVE})
    BEGIN
        SELECT RAISE(ABORT, 'conflict of interest: remove the active review first');
    END;
    """
    for event in ("INSERT", "UPDATE")
]

SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS allot_{name}_{event};"
    for name in ("review_without_conflict", "conflict_without_review")
    for event in ("insert", "update")
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"Allot's conflict triggers are written for PostgreSQL and SQLite, not {vendor}.")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0004_reviews")]
    operations = [migrations.RunPython(forward, backward)]
