"""Writes about calls and the people in them (STYLE: every write is a service).

Each service runs in one transaction and lists its side effects. Services raise
``django.core.exceptions.ValidationError`` (with a field name where one applies) for anything a
manager can fix; views put the message beside the field.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.formatting import amount, format_instant
from accounts.models import User
from accounts.selectors import user_for_email
from notifications.enums import EmailKind
from notifications.services import outbox_queue
from proposals.calls.audit import audit_entry, audit_record
from proposals.calls.cycles import CYCLE_MONTHS, next_cycle_label, shift_date, shift_datetime
from proposals.calls.enums import AuditAction, CallRoleKind
from proposals.calls.hooks import conflict_sources_changed
from proposals.calls.models import AuditEntry, Call, CallCriterion, CallResource, CallRole

log = logging.getLogger(__name__)

DATETIME_FIELDS = (
    "opens_at",
    "closes_at",
    "review_due_at",
    "reply_opens_at",
    "reply_closes_at",
    "decisions_due_at",
)
DATE_FIELDS = ("period_start", "period_end")
# What a manager sets on a call, in the groups the call form and the admin show them (the
# rest, timestamps, publication and archiving, has services). "Create the next cycle" copies
# every one; ``tests/proposals/test_call_create_next_cycle.py`` checks that no editable field
# of ``Call`` is missing here.
FIELD_GROUPS: tuple[tuple[str | Promise, tuple[str, ...]], ...] = (
    (_lazy("Call"), ("code", "name", "reference_prefix", "description", "guidelines")),
    (_lazy("Dates"), ("time_zone", *DATETIME_FIELDS, *DATE_FIELDS)),
    (
        _lazy("Review settings"),
        (
            "reviewers_per_proposal",
            "technical_review",
            "review_visibility",
            "fundable_threshold",
            "right_of_reply",
            "reply_length_limit",
            "pdf_page_limit",
            "pdf_size_limit_mb",
        ),
    ),
    (_lazy("Awards"), ("quota_policy",)),
)
EDITABLE_FIELDS = tuple(name for _label, names in FIELD_GROUPS for name in names)


class BudgetData(TypedDict):
    """One resource offered in a call. ``resource`` is an ``allocations.Resource``."""

    resource: Any
    budget: Decimal
    min_request: Decimal
    max_request: Decimal


class CriterionData(TypedDict):
    """One review criterion; ``id`` names an existing criterion of the call to keep."""

    name: str
    description: str
    weight: Decimal
    scale_min: int
    scale_max: int
    id: NotRequired[int | None]


def _integrity_error_message(exc: IntegrityError) -> ValidationError:
    """Two managers saved the same code (or prefix) at once: the database said no."""
    text = str(exc).lower()
    if "code" in text:
        return ValidationError({"code": _("Another call already has this code.")})
    if "reference_prefix" in text:
        return ValidationError(
            {"reference_prefix": _("Another call already uses this reference prefix.")}
        )
    return ValidationError(
        _("The call could not be saved because it conflicts with a change saved at the same time.")
        + " "
        + _("Please check the values and save again.")
    )


def _set_budgets(call: Call, budgets: Sequence[BudgetData]) -> None:
    """Make the call's resources exactly ``budgets``, matched by resource.

    Rows are updated in place rather than replaced, so later records pointing at a call's
    resource (requests, awards) keep pointing at the same row.
    """
    existing = {row.resource_id: row for row in call.call_resources.all()}
    wanted = {budget["resource"].pk: budget for budget in budgets}
    CallResource.objects.filter(call=call).exclude(resource_id__in=wanted).delete()
    for resource_id, budget in wanted.items():
        row = existing.get(resource_id) or CallResource(call=call, resource_id=resource_id)
        row.budget = budget["budget"]
        row.min_request = budget["min_request"]
        row.max_request = budget["max_request"]
        row.save()


def _set_criteria(call: Call, criteria: Sequence[CriterionData]) -> None:
    """Make the call's criteria exactly ``criteria`` in that order, matched by id."""
    existing = {row.pk: row for row in call.criteria.all()}
    kept_ids = {item_id for item in criteria if (item_id := item.get("id")) in existing}
    CallCriterion.objects.filter(call=call).exclude(pk__in=kept_ids).delete()
    for position, item in enumerate(criteria):
        item_id = item.get("id")
        row = existing.get(item_id) if item_id in kept_ids else None
        row = row or CallCriterion(call=call)
        row.name = item["name"]
        row.description = item.get("description", "")
        row.weight = item["weight"]
        row.scale_min = item["scale_min"]
        row.scale_max = item["scale_max"]
        row.position = position
        row.save()


def _require_some(budgets: Sequence[BudgetData], criteria: Sequence[CriterionData]) -> None:
    if not budgets:
        raise ValidationError(_("A call must offer at least one resource."))
    if not criteria:
        raise ValidationError(_("A call needs at least one review criterion."))


def call_values(call: Call) -> dict[str, str]:
    """The call's settings, budgets and criteria as people read them, for the audit trail:
    dates in the call's zone, one entry per resource and per criterion."""
    values: dict[str, str] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(call, name)
        if isinstance(value, datetime):
            value = format_instant(value, call.tz)
        values[name] = "" if value is None else str(value)
    budgets = CallResource.objects.filter(call=call).select_related("resource")
    for row in budgets.order_by("resource__name"):
        values[f"budget: {row.resource.name}"] = (
            f"{amount(row.budget)} ({amount(row.min_request)}–{amount(row.max_request)} "
            f"{row.resource.unit})"
        )
    for criterion in CallCriterion.objects.filter(call=call).order_by("position", "pk"):
        values[f"criterion {criterion.position + 1}"] = (
            f"{criterion.name} × {criterion.weight.normalize()} "
            f"({criterion.scale_min}–{criterion.scale_max})"
        )
    return values


def _changed(before: dict[str, str], after: dict[str, str]) -> tuple[dict, dict]:
    """Only the keys whose value changed, before and after."""
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return (
        {key: before[key] for key in keys if key in before},
        {key: after[key] for key in keys if key in after},
    )


def call_create(
    *,
    by: User | None,
    data: Mapping[str, Any],
    budgets: Sequence[BudgetData],
    criteria: Sequence[CriterionData],
    action: str = AuditAction.CALL_CREATED,
    after: Mapping[str, str] | None = None,
) -> Call:
    """Create a call with its budgets and criteria.

    ``data`` holds the call's fields (dates as aware datetimes). Side effects: one Call, its
    CallResource and CallCriterion rows; an audit entry ``action`` with every setting (and
    ``after``); a log entry. Raises ValidationError when the code or reference prefix was taken
    meanwhile or a budget or criterion is missing.
    """
    _require_some(budgets, criteria)
    call = Call(**{name: data[name] for name in EDITABLE_FIELDS if name in data})
    try:
        with transaction.atomic():
            call.save()
            _set_budgets(call, budgets)
            _set_criteria(call, criteria)
            audit_record(
                subject=call,
                action=action,
                actor=by,
                call=call,
                after={**call_values(call), **(after or {})},
            )
    except IntegrityError as exc:
        raise _integrity_error_message(exc) from exc
    log.info("call created", extra={"ctx_call": call.pk, "ctx_by": getattr(by, "pk", None)})
    return call


def call_update(
    *,
    call: Call,
    by: User | None,
    data: Mapping[str, Any],
    budgets: Sequence[BudgetData],
    criteria: Sequence[CriterionData],
) -> Call:
    """Change a call's settings, budgets and criteria in one transaction.

    Side effects: the Call row; CallResource rows added, changed or deleted to match
    ``budgets``; CallCriterion rows likewise; an audit entry with the values that changed,
    before and after (none when nothing changed); a log entry.
    """
    _require_some(budgets, criteria)
    try:
        with transaction.atomic():
            locked = Call.objects.select_for_update().get(pk=call.pk)
            before = call_values(locked)
            for name in EDITABLE_FIELDS:
                if name in data:
                    setattr(locked, name, data[name])
            locked.save()
            _set_budgets(locked, budgets)
            _set_criteria(locked, criteria)
            old, new = _changed(before, call_values(locked))
            if old or new:
                audit_record(
                    subject=locked,
                    action=AuditAction.CALL_EDITED,
                    actor=by,
                    call=locked,
                    before=old,
                    after=new,
                )
    except IntegrityError as exc:
        raise _integrity_error_message(exc) from exc
    log.info("call updated", extra={"ctx_call": call.pk, "ctx_by": getattr(by, "pk", None)})
    return locked


def next_cycle_dates(call: Call, *, months: int = CYCLE_MONTHS) -> dict[str, Any]:
    """Every date of ``call`` moved by ``months`` on the wall clock of the call's zone."""
    dates: dict[str, Any] = {}
    for name in DATETIME_FIELDS:
        value: datetime | None = getattr(call, name)
        dates[name] = None if value is None else shift_datetime(value, months=months, zone=call.tz)
    for name in DATE_FIELDS:
        dates[name] = shift_date(getattr(call, name), months=months)
    return dates


def call_create_next_cycle(*, call: Call, by: User | None) -> Call:
    """Copy ``call`` into the next half-year's call (PRODUCT §3).

    Every setting, budget and criterion is copied; every date moves by six months at the same
    wall-clock time in the call's zone; code, name and reference prefix move to the next
    half-year ("JUPITER 2027-1" → "JUPITER 2027-2"). People (committee, reviewers) are not
    copied. Raises ValidationError when no next code can be suggested or it is taken.
    Side effects: as ``call_create``.
    """
    code = next_cycle_label(call.code)
    prefix = next_cycle_label(call.reference_prefix)
    if code is None:
        raise ValidationError(
            _("Cannot suggest the next code after “%(code)s”: it has no year and half like 2027-1.")
            % {"code": call.code}
        )
    if prefix is None:
        raise ValidationError(
            _(
                "Cannot suggest the next reference prefix after “%(prefix)s”: "
                "it has no year and half like 27-1."
            )
            % {"prefix": call.reference_prefix}
        )
    if Call.objects.filter(code__iexact=code).exists():
        raise ValidationError(
            _("The next cycle's code “%(code)s” is already taken by another call.") % {"code": code}
        )
    if Call.objects.filter(reference_prefix__iexact=prefix).exists():
        raise ValidationError(
            _("The next cycle's reference prefix “%(prefix)s” is already taken by another call.")
            % {"prefix": prefix}
        )
    data = {name: getattr(call, name) for name in EDITABLE_FIELDS}
    data.update(next_cycle_dates(call))
    data.update(code=code, name=next_cycle_label(call.name) or call.name, reference_prefix=prefix)
    budgets: list[BudgetData] = [
        {
            "resource": row.resource,
            "budget": row.budget,
            "min_request": row.min_request,
            "max_request": row.max_request,
        }
        for row in call.call_resources.select_related("resource")
    ]
    criteria: list[CriterionData] = [
        {
            "name": row.name,
            "description": row.description,
            "weight": row.weight,
            "scale_min": row.scale_min,
            "scale_max": row.scale_max,
        }
        for row in call.criteria.all()
    ]
    new_call = call_create(
        by=by,
        data=data,
        budgets=budgets,
        criteria=criteria,
        action=AuditAction.CALL_NEXT_CYCLE,
        after={"copied from": call.code},
    )
    log.info(
        "call next cycle created",
        extra={"ctx_call": new_call.pk, "ctx_from": call.pk, "ctx_by": getattr(by, "pk", None)},
    )
    return new_call


def call_archive(*, call: Call, by: User | None) -> Call:
    """Archive a call: it leaves the public list but its page stays readable.

    Side effects: ``archived_at`` set (kept if already archived); an audit entry when it was
    not archived yet; a log entry.
    """
    with transaction.atomic():
        archived = Call.objects.filter(pk=call.pk, archived_at__isnull=True).update(
            archived_at=timezone.now(), updated_at=timezone.now()
        )
        if archived:
            audit_record(subject=call, action=AuditAction.CALL_ARCHIVED, actor=by, call=call)
    call.refresh_from_db()
    log.info("call archived", extra={"ctx_call": call.pk, "ctx_by": getattr(by, "pk", None)})
    return call


def call_unarchive(*, call: Call, by: User | None) -> Call:
    """Bring an archived call back; its status follows the clock again.

    Side effects: ``archived_at`` cleared; an audit entry when it was archived; a log entry.
    """
    with transaction.atomic():
        unarchived = Call.objects.filter(pk=call.pk, archived_at__isnull=False).update(
            archived_at=None, updated_at=timezone.now()
        )
        if unarchived:
            audit_record(subject=call, action=AuditAction.CALL_UNARCHIVED, actor=by, call=call)
    call.refresh_from_db()
    log.info("call unarchived", extra={"ctx_call": call.pk, "ctx_by": getattr(by, "pk", None)})
    return call


def call_role_add(
    *,
    call: Call,
    email: str,
    role: CallRoleKind | str,
    by: User | None,
    max_load: int | None = None,
) -> tuple[CallRole, bool]:
    """Give the person with ``email`` a role in ``call``; returns (role, created).

    The role is linked to the account that owns the address, or waits (``user`` empty) until
    someone verifies it. Adding the same email and role again changes nothing.
    Side effects: one CallRole row; one ``call-role-added`` email through the outbox telling
    them their role (and to sign up with this address if they have no account); conflicts of
    interest detected again for the call (``hooks.conflict_sources_changed``); an audit entry;
    a log entry.
    """
    email = email.strip()
    role = CallRoleKind(role)
    if role != CallRoleKind.REVIEWER:
        max_load = None
    with transaction.atomic():
        existing = CallRole.objects.filter(call=call, role=role, email__iexact=email).first()
        if existing is not None:
            return existing, False
        user = user_for_email(email)
        try:
            with transaction.atomic():
                call_role = CallRole.objects.create(
                    call=call, role=role, email=email, user=user, max_load=max_load, added_by=by
                )
        except IntegrityError:
            # Another manager added the same person at the same moment.
            return CallRole.objects.get(call=call, role=role, email__iexact=email), False
        if user is not None:
            conflict_sources_changed(call)
        outbox_queue(
            kind=EmailKind.CALL_ROLE_ADDED,
            event=f"call-role-added:{call_role.pk}",
            recipient=email,
            user=user,
            context={"call": call, "role": call_role, "has_account": user is not None},
        )
        audit_record(
            subject=call_role,
            action=AuditAction.ROLE_ADDED,
            actor=by,
            call=call,
            person=user,
            after=_role_values(call_role),
        )
    log.info(
        "call role added",
        extra={"ctx_call": call.pk, "ctx_role": call_role.pk, "ctx_by": getattr(by, "pk", None)},
    )
    return call_role, True


def _role_values(role: CallRole) -> dict[str, str]:
    values = {"email": role.email, "role": str(role.get_role_display())}
    if role.max_load is not None:
        values["maximum load"] = str(role.max_load)
    return values


def call_role_remove(*, role: CallRole, by: User | None) -> None:
    """Take a person's role in a call away. Side effects: the CallRole row deleted; conflicts
    of interest detected again for the call; an audit entry (when it was still there); a log
    entry."""
    with transaction.atomic():
        deleted, _rows = CallRole.objects.filter(pk=role.pk).delete()
        conflict_sources_changed(role.call)
        if deleted:
            audit_record(
                subject=role,
                action=AuditAction.ROLE_REMOVED,
                actor=by,
                call=role.call,
                person=role.user,
                before=_role_values(role),
            )
    log.info(
        "call role removed",
        extra={"ctx_call": role.call_id, "ctx_role": role.pk, "ctx_by": getattr(by, "pk", None)},
    )


def call_roles_claim(*, user: User, email: str) -> int:
    """Link every pending role for ``email`` to ``user``, who has just verified that address.

    Returns how many roles were claimed. Side effects: ``CallRole.user`` set on those rows;
    an audit entry for each; conflicts of interest detected again for their calls.
    """
    with transaction.atomic():
        roles = list(
            CallRole.objects.select_for_update()
            .filter(user__isnull=True, email__iexact=email.strip())
            .select_related("call")
        )
        claimed = CallRole.objects.filter(pk__in=[role.pk for role in roles]).update(user=user)
        AuditEntry.objects.bulk_create(
            audit_entry(
                subject=role,
                action=AuditAction.ROLE_CLAIMED,
                actor=user,
                call=role.call,
                person=user,
                after=_role_values(role),
            )
            for role in roles
        )
        for call in sorted({role.call for role in roles}, key=lambda call: call.pk):
            conflict_sources_changed(call)
    if claimed:
        log.info("call roles claimed", extra={"ctx_user": user.pk, "ctx_count": claimed})
    return claimed
