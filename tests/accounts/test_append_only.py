"""The append-only rows refuse a change or a delete with one exception (the ledger's and the
versions' own tests cover theirs; the database triggers are tested beside them)."""

import pytest

from accounts.append_only import AppendOnlyError
from proposals.calls.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_audit_entry_cannot_be_saved_again_or_deleted():
    entry = AuditEntry.objects.create(subject_type="call", subject_id=1, action="call.created")
    entry.action = "call.rewritten"

    with pytest.raises(
        AppendOnlyError, match="^Audit entries are append-only: they cannot be changed.$"
    ):
        entry.save()
    with pytest.raises(
        AppendOnlyError, match="^Audit entries are append-only: they cannot be deleted.$"
    ):
        entry.delete()

    assert AuditEntry.objects.get().action == "call.created"
