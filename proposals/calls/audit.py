"""The audit trail's writes (PRODUCT §9): ``audit_record`` in the transaction of each change,
``audit_entry`` for bulk inserts, the sign-ins of managers and the changes of the managers'
role. Readers are in ``allocations.selectors.audit``."""

import logging
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise

from accounts.models import User
from accounts.rules import has_manager_role
from proposals.calls.enums import AuditAction
from proposals.calls.models import AuditEntry, Call

log = logging.getLogger(__name__)


def _name(value: object) -> str:
    return str(value)[:300] if value is not None else ""


def _plain(values: dict[str, Any] | None) -> dict[str, Any]:
    """Lazy translations (a state's label) as the text they read now."""
    return {key: str(v) if isinstance(v, Promise) else v for key, v in (values or {}).items()}


def audit_entry(
    *,
    subject: models.Model,
    action: str,
    actor: User | None,
    call: Call | None = None,
    person: User | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
    subject_name: str | None = None,
) -> AuditEntry:
    """An unsaved AuditEntry (for ``AuditEntry.objects.bulk_create``); see ``audit_record``."""
    model_name = subject._meta.model_name
    assert model_name is not None  # set on every model class; None only before it is bound
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry(
        call=call,
        subject_type=model_name,
        subject_id=subject.pk,
        subject_name=_name(subject if subject_name is None else subject_name),
        action=action,
        actor=actor,
        actor_name=_name(actor),
        person=person,
        person_name=_name(person),
        before=_plain(before),
        after=_plain(after),
        created_at=at or timezone.now(),
    )


def audit_record(
    *,
    subject: models.Model,
    action: str,
    actor: User | None,
    call: Call | None = None,
    person: User | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
    subject_name: str | None = None,
) -> AuditEntry:
    """Record ``action`` (an ``AuditAction``) on ``subject`` by ``actor`` (None: the system),
    about ``person`` when it concerns someone else, at ``at`` (default now). The names of the
    subject (``str(subject)`` unless ``subject_name``), the actor and the person are kept as
    they read now. Values must be JSON-serialisable; pass Decimals and dates as strings. Runs
    in the caller's transaction, so a change and its record commit or roll back together.
    Side effect: one AuditEntry row."""
    entry = audit_entry(
        subject=subject,
        action=action,
        actor=actor,
        call=call,
        person=person,
        before=before,
        after=after,
        at=at,
        subject_name=subject_name,
    )
    entry.save(force_insert=True)
    return entry


def sign_in_record(*, user: User, second_factor: bool, where: str) -> AuditEntry | None:
    """Record that a call manager or a superuser signed in (PRODUCT §9), to ``where`` ("site"
    or "admin"), and whether the session passed the second factor. Anyone else's sign-in is
    not recorded (returns None). Side effect: one AuditEntry row."""
    if not has_manager_role(user):
        return None
    return audit_record(
        subject=user,
        action=AuditAction.SIGNED_IN,
        actor=user,
        person=user,
        after={
            "to": where,
            "second factor": "yes" if second_factor else "no",
        },
    )


def manager_role_record(*, user: User, by: User, before: list[str], after: list[str]) -> None:
    """Record a change of ``user``'s manager roles (the call managers' group, the superuser
    flag) made by ``by`` in the admin (``accounts.hooks.manager_role_changed``). Side effect:
    one AuditEntry row."""
    gained = [role for role in after if role not in before]
    audit_record(
        subject=user,
        action=AuditAction.MANAGER_ADDED if gained else AuditAction.MANAGER_REMOVED,
        actor=by,
        person=user,
        before={"roles": ", ".join(before)},
        after={"roles": ", ".join(after)},
    )
