"""Writes to a draft's sections: its fields, its resource requests, its scaling table.

Every service here runs in one transaction through ``_locked_for_edit``, which locks the
proposal row and checks, in this order:

1. the deadline: for the team of a draft whose call no longer accepts submissions, a
   ``DeadlinePassed`` (a ``ValidationError``) saying the draft is kept, read-only;
2. the right to edit (``rules.can_edit_proposal``), else ``PermissionDenied``;
3. the version the editor loaded (``expected_version``) against ``Proposal.lock_version``,
   else ``EditConflict`` carrying the proposal as it is now, so the page can show what the
   other person saved (PRODUCT §4.2: no edit is silently overwritten).

A successful save adds one to ``lock_version`` and records ``updated_by``; one section is one
save, so the technical section (fields and the scaling table) has one service of its own.
Refusals a researcher can fix are ``ValidationError`` keyed by the form field's name
(``acronym``, ``request-<call_resource_id>-amount``, ``scaling``…).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.models import Call, CallResource
from proposals.calls.rules import call_accepts_submissions
from proposals.submission.enums import EDITABLE
from proposals.submission.models import PROPOSAL_FIELDS, Proposal, ResourceRequest, ScalingPoint
from proposals.submission.rules import can_edit_proposal, is_team_member
from proposals.submission.services.lifecycle import DeadlinePassed, call_local

# The proposal's own fields, by the section page that edits them (PRODUCT §4.1).
EDITABLE_FIELDS = frozenset(PROPOSAL_FIELDS)

ACRONYM_CONSTRAINT = "proposal_acronym_unique_in_call"


class RequestData(TypedDict):
    """One resource of the call: ``amount`` None means "not requested" (the row goes)."""

    call_resource: CallResource
    amount: Decimal | None
    justification: str


class ScalingData(TypedDict):
    """One row of the scaling table: on ``gpus`` GPUs one step takes ``seconds_per_step``."""

    gpus: int
    seconds_per_step: Decimal


class EditConflict(Exception):
    """Someone saved the proposal after the editor loaded it; nothing was written.

    ``proposal`` is the proposal as it is now (its ``requests`` and ``scaling`` prefetched
    under the same lock), ``updated_by`` and ``updated_at`` say who saved it and when.
    """

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.updated_by: User | None = proposal.updated_by
        self.updated_at: datetime = proposal.updated_at
        super().__init__(
            f"Proposal {proposal.pk} is at version {proposal.lock_version}; "
            "the save was based on an older one."
        )


def deadline_passed_error(call: Call) -> DeadlinePassed:
    """The refusal a team sees when it saves a draft after the call closed."""
    return DeadlinePassed(
        _(
            "The call closed on %(deadline)s: this draft can no longer be changed. It is kept "
            "as it was, read-only; the changes you just sent were not saved."
        )
        % {"deadline": call_local(call.closes_at, call)},
        code="deadline",
    )


def _locked_for_edit(
    *, proposal: Proposal, by: User, expected_version: int, now: datetime
) -> Proposal:
    """The proposal row, locked until the transaction ends, once every check passed."""
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("call", "updated_by")
        .get(pk=proposal.pk)
    )
    if (
        locked.status in EDITABLE
        and not call_accepts_submissions(locked.call, now)
        and is_team_member(by, locked)
    ):
        raise deadline_passed_error(locked.call)
    if not can_edit_proposal(by, locked, now):
        raise PermissionDenied(_("Only the team of a draft can change it."))
    if expected_version != locked.lock_version:
        prefetch_related_objects([locked], "requests", "scaling")
        raise EditConflict(locked)
    return locked


def _save_version(locked: Proposal, *, by: User, fields: Sequence[str] = ()) -> None:
    """Write ``fields`` and the next version; a clash on the acronym becomes a field error."""
    locked.lock_version += 1
    locked.updated_by = by
    try:
        with transaction.atomic():  # a savepoint: the outer transaction survives the error
            locked.save(update_fields=[*fields, "lock_version", "updated_by", "updated_at"])
    except IntegrityError as error:
        if ACRONYM_CONSTRAINT not in str(error):
            raise
        raise _acronym_taken_error() from error


def _acronym_taken_error() -> ValidationError:
    return ValidationError(
        {"acronym": _("Another proposal to this call already uses this acronym.")},
        code="unique",
    )


def _write_fields(locked: Proposal, data: Mapping[str, Any]) -> list[str]:
    """Set the proposal's own fields from ``data``; returns the names written."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not fields a section edits: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(locked, name, value)
    names = list(data)
    others = [f.name for f in Proposal._meta.concrete_fields if f.name not in names]
    locked.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    acronym = data.get("acronym")
    if acronym and acronym_taken(locked, acronym):
        raise _acronym_taken_error()
    return names


def acronym_taken(proposal: Proposal, acronym: str) -> bool:
    """Another proposal to the same call uses ``acronym`` (ignoring case). Checked before the
    save for a clear message; the unique index still decides when two saves race."""
    return (
        Proposal.objects.filter(call_id=proposal.call_id, acronym__iexact=acronym)
        .exclude(pk=proposal.pk)
        .exists()
    )


def _write_requests(locked: Proposal, requests: Sequence[RequestData]) -> None:
    """Make the proposal's requests exactly the rows of ``requests`` that have an amount."""
    offers = {offer.pk: offer for offer in locked.call.call_resources.select_related("resource")}
    wanted: dict[int, RequestData] = {}
    for item in requests:
        offer_id = item["call_resource"].pk
        if offer_id not in offers:
            raise ValidationError(
                {
                    "requests": _("%(resource)s is not offered in this call.")
                    % {"resource": item["call_resource"]}
                },
                code="not_offered",
            )
        if offer_id in wanted:
            raise ValueError(f"Call resource {offer_id} is listed twice.")
        wanted[offer_id] = item

    existing = {row.call_resource_id: row for row in locked.requests.all()}
    keep = {offer_id for offer_id, item in wanted.items() if item["amount"] is not None}
    ResourceRequest.objects.filter(proposal=locked).exclude(call_resource_id__in=keep).delete()
    for offer_id in keep:
        item = wanted[offer_id]
        assert item["amount"] is not None  # ``keep`` has only the requests with an amount
        row = existing.get(offer_id) or ResourceRequest(proposal=locked, call_resource_id=offer_id)
        row.amount = item["amount"]
        row.justification = item["justification"]
        try:
            row.full_clean(
                exclude=["proposal", "call_resource"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            raise ValidationError(
                {
                    f"request-{offer_id}-{name}": messages
                    for name, messages in error.message_dict.items()
                }
            ) from error
        if row.amount < 0:
            raise ValidationError(
                {f"request-{offer_id}-amount": _("The amount cannot be negative.")},
                code="negative",
            )
        row.save()


def _write_scaling(locked: Proposal, points: Sequence[ScalingData]) -> None:
    """Replace the scaling table by ``points``, positions in the order given."""
    rows = []
    seen: set[int] = set()
    for position, point in enumerate(points):
        gpus, seconds = point["gpus"], point["seconds_per_step"]
        if gpus in seen:
            raise ValidationError(
                {"scaling": _("Two rows have %(gpus)s GPUs; keep one.") % {"gpus": gpus}},
                code="duplicate",
            )
        if gpus < 1 or seconds <= 0:
            raise ValidationError(
                {"scaling": _("Every row needs at least 1 GPU and a time above zero.")},
                code="not_positive",
            )
        seen.add(gpus)
        row = ScalingPoint(proposal=locked, gpus=gpus, seconds_per_step=seconds, position=position)
        try:
            row.full_clean(exclude=["proposal"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise ValidationError({"scaling": error.messages}) from error
        rows.append(row)
    ScalingPoint.objects.filter(proposal=locked).delete()
    ScalingPoint.objects.bulk_create(rows)


def proposal_update(
    *,
    proposal: Proposal,
    by: User,
    expected_version: int,
    data: Mapping[str, Any],
    now: datetime | None = None,
) -> Proposal:
    """Save the proposal's own fields (general or technical section) from ``data``.

    ``data`` holds any of ``PROPOSAL_FIELDS`` (``submission.models``) with their model values
    (``keywords`` a list of strings, ``pi_country`` a country code); any other key is a
    ``ValueError``. Refusals: see the module; a ValidationError on ``acronym`` when another
    proposal to the call uses it (ignoring case), and on any field the model refuses.

    Side effects: the fields, ``lock_version`` + 1, ``updated_by``, ``updated_at``.
    Returns the saved proposal (a fresh object; ``proposal`` itself is not changed).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_for_edit(
            proposal=proposal, by=by, expected_version=expected_version, now=now
        )
        names = _write_fields(locked, data)
        _save_version(locked, by=by, fields=names)
    return locked


def proposal_set_requests(
    *,
    proposal: Proposal,
    by: User,
    expected_version: int,
    requests: Sequence[RequestData],
    now: datetime | None = None,
) -> Proposal:
    """Set the amount and justification asked for each resource of the call (resources section).

    ``requests`` has one item per resource of the call; an item whose amount is None, and
    any resource left out, has no request afterwards. A resource not offered in this call is
    refused (ValidationError on ``requests``). Amounts outside the call's minimum and
    maximum are kept: a draft may hold them, submission refuses them.

    Side effects: ResourceRequest rows created, updated or deleted; ``lock_version`` + 1,
    ``updated_by``, ``updated_at``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_for_edit(
            proposal=proposal, by=by, expected_version=expected_version, now=now
        )
        _write_requests(locked, requests)
        _save_version(locked, by=by)
    return locked


def proposal_set_scaling(
    *,
    proposal: Proposal,
    by: User,
    expected_version: int,
    points: Sequence[ScalingData],
    now: datetime | None = None,
) -> Proposal:
    """Replace the scaling table by ``points``, in that order.

    Refused (ValidationError on ``scaling``): two rows with the same GPU count, fewer than one
    GPU, a time per step of zero or less.

    Side effects: the proposal's ScalingPoint rows replaced (positions 0, 1, …);
    ``lock_version`` + 1, ``updated_by``, ``updated_at``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_for_edit(
            proposal=proposal, by=by, expected_version=expected_version, now=now
        )
        _write_scaling(locked, points)
        _save_version(locked, by=by)
    return locked


def proposal_update_technical(
    *,
    proposal: Proposal,
    by: User,
    expected_version: int,
    data: Mapping[str, Any],
    points: Sequence[ScalingData],
    now: datetime | None = None,
) -> Proposal:
    """Save the technical section at once: its fields (``data``, see ``proposal_update``)
    and the scaling table (``points``, see ``proposal_set_scaling``), as one version.

    Side effects: those of both, with a single ``lock_version`` + 1.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_for_edit(
            proposal=proposal, by=by, expected_version=expected_version, now=now
        )
        names = _write_fields(locked, data)
        _write_scaling(locked, points)
        _save_version(locked, by=by, fields=names)
    return locked
