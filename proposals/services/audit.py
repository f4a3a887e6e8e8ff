"""The audit trail (PRODUCT §9): one append-only row per state change, with before and after."""

from typing import Any

from django.db import models

from accounts.models import User
from proposals.models import AuditEntry, Call


def audit_record(
    *,
    subject: models.Model,
    action: str,
    actor: User | None,
    call: Call | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record ``action`` on ``subject`` by ``actor``. Values must be JSON-serialisable; pass
    Decimals and dates as strings. Runs in the caller's transaction, so a change and its
    record commit or roll back together. Side effect: one AuditEntry row."""
    return AuditEntry.objects.create(
        call=call,
        subject_type=subject._meta.model_name,
        subject_id=subject.pk,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        before=before or {},
        after=after or {},
    )
