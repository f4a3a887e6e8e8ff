"""A proposal's life: started, submitted, taken back to draft, withdrawn (PRODUCT §4.2).

These are the only services that set ``Proposal.status`` (see ``proposals.enums``). Each runs in
one transaction and lists its side effects. Refusals a researcher can act on are
``ValidationError`` (or the subclasses below); acting in the wrong role is ``PermissionDenied``.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from accounts.formatting import format_instant
from accounts.models import User
from accounts.selectors import profile_missing_fields
from notifications.enums import EmailKind
from notifications.services import outbox_queue_each
from proposals.calls.audit import audit_record
from proposals.calls.enums import AuditAction, CallStatus
from proposals.calls.hooks import conflict_sources_changed, continuable, start_refusal
from proposals.calls.models import Call
from proposals.calls.rules import call_accepts_submissions
from proposals.submission.enums import PROPOSAL_LIFECYCLE, WITHDRAWABLE, ProposalStatus
from proposals.submission.models import (
    PROPOSAL_FIELDS,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
)
from proposals.submission.rules import is_pi
from proposals.submission.selectors.completeness import Problem, proposal_problems
from proposals.submission.services.snapshot import proposal_snapshot, submission_prefetches


class DeadlinePassed(ValidationError):
    """The call closed before the submission arrived; the draft is kept as it was."""


class SubmissionRefused(ValidationError):
    """The proposal is incomplete. ``problems`` lists every reason at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__([problem.message for problem in problems], code="incomplete")


def call_local(value: datetime, call: Call) -> str:
    """A moment as the call's pages show it: "15 Jan 2027, 17:00 CET (Europe/Berlin)"."""
    return f"{format_instant(value, call.tz)} ({call.time_zone})"


def _lock(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("call", "pi")
        .get(pk=proposal.pk)
    )


def _refresh(proposal: Proposal, source: Proposal, fields: tuple[str, ...]) -> None:
    """Let the caller's object see what the service wrote."""
    for name in fields:
        setattr(proposal, name, getattr(source, name))


def _require_pi(user: User, proposal: Proposal, message: str) -> None:
    if not is_pi(user, proposal):
        raise PermissionDenied(message)


def _team_recipients(proposal: Proposal) -> list[User]:
    """The PI first, then every co-investigator who accepted, each once."""
    prefetch_related_objects([proposal], *submission_prefetches()[3:4])
    people = {proposal.pi_id: proposal.pi}
    for member in proposal.accepted_team:  # type: ignore[attr-defined]
        assert member.user is not None  # team_accepted_has_user: accepted means a user
        people.setdefault(member.user.pk, member.user)
    return list(people.values())


def proposal_start(
    *,
    call: Call,
    by: User,
    continues_id: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Start a draft proposal to ``call`` with ``by`` as principal investigator; with
    ``continues_id``, one that continues the allocation of that earlier proposal (PRODUCT §8).

    Refused (ValidationError) when the call does not accept submissions, ``by``'s profile
    lacks what a proposal needs, ``by`` leads an allocation whose final report is overdue
    (a check ``allocations`` registers with ``proposals.calls.hooks``), or ``continues_id`` is
    not one of the allocations ``by`` may continue (``proposals.calls.hooks.continuable``: their
    own, not continued yet).

    Side effects: one Proposal row (status draft, PI's affiliation and country copied from the
    profile). A continuation starts from the earlier proposal: its fields (but the PI's
    affiliation and country, taken from the profile now), its scaling table, and its requests
    for the resources this call offers, with their justifications.
    """
    now = now or timezone.now()
    if not call_accepts_submissions(call, now):
        if call.status_at(now) == CallStatus.UPCOMING:
            raise ValidationError(
                _("The call %(call)s opens on %(opens)s; you can start a proposal then.")
                % {"call": call.code, "opens": call_local(call.opens_at, call)},
                code="call_not_open",
            )
        raise ValidationError(
            _("The call %(call)s is closed and no longer accepts proposals.") % {"call": call.code},
            code="call_not_open",
        )
    missing = profile_missing_fields(by)
    if missing:
        raise ValidationError(
            _("Please complete your profile first. Still missing: %(fields)s.")
            % {"fields": get_text_list(missing, _("and"))},
            code="profile_incomplete",
        )
    overdue = start_refusal(by, call, now)
    if overdue:
        raise ValidationError(overdue, code="final_report_overdue")
    earlier = None
    if continues_id is not None:
        if continues_id not in {choice.proposal_id for choice in continuable(by)}:
            raise ValidationError(
                {"continues": _("You can continue only an allocation of your own.")},
                code="not_continuable",
            )
        earlier = Proposal.objects.get(pk=continues_id)
    with transaction.atomic():
        proposal = Proposal.objects.create(
            call=call,
            pi=by,
            pi_affiliation=by.affiliation,
            pi_country=by.country,
            updated_by=by,
            continues=earlier,
            **_carried_over(earlier),
        )
        if earlier is not None:
            _carry_over_tables(earlier, proposal)
        return proposal


# What a continuation takes from the earlier proposal: its content, not the PI's profile facts.
CARRIED_OVER_FIELDS = tuple(f for f in PROPOSAL_FIELDS if f not in {"pi_affiliation", "pi_country"})


def _carried_over(earlier: Proposal | None) -> dict[str, Any]:
    if earlier is None:
        return {}
    return {name: getattr(earlier, name) for name in CARRIED_OVER_FIELDS}


def _carry_over_tables(earlier: Proposal, proposal: Proposal) -> None:
    ScalingPoint.objects.bulk_create(
        ScalingPoint(
            proposal=proposal,
            gpus=point.gpus,
            seconds_per_step=point.seconds_per_step,
            position=point.position,
        )
        for point in earlier.scaling.all()
    )
    offers = {offer.resource_id: offer for offer in proposal.call.call_resources.all()}
    ResourceRequest.objects.bulk_create(
        ResourceRequest(
            proposal=proposal,
            call_resource=offers[old.call_resource.resource_id],
            amount=old.amount,
            justification=old.justification,
        )
        for old in earlier.requests.select_related("call_resource")
        if old.call_resource.resource_id in offers
    )


def _check_deadline(call: Call, now: datetime) -> None:
    if now >= call.closes_at:
        raise DeadlinePassed(
            _(
                "The call closed on %(deadline)s. Submissions are no longer accepted; "
                "your draft is kept as it was."
            )
            % {"deadline": call_local(call.closes_at, call)},
            code="deadline",
        )
    if not call_accepts_submissions(call, now):
        raise ValidationError(
            _("The call %(call)s does not accept submissions now.") % {"call": call.code},
            code="call_not_open",
        )


def proposal_submit(
    *, proposal: Proposal, by: User, now: datetime | None = None
) -> ProposalVersion:
    """Submit a draft: check the deadline and every problem at once, then freeze a version.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError unless the proposal is
    a draft; DeadlinePassed at or after ``call.closes_at`` (to the second); SubmissionRefused
    with every problem when the proposal is incomplete.

    Side effects on success: the call's ``last_reference_number`` + 1 and the proposal's
    ``reference`` (first submission only, under a lock of the call row); a new ProposalVersion
    (number = previous + 1); status submitted and ``submitted_at``; a receipt email
    (``proposal-submitted``) to the PI and each accepted co-investigator, once per version; an
    audit entry; conflicts of interest detected for the proposal
    (``calls.hooks.conflict_sources_changed``). Side effect of a SubmissionRefused:
    ``submit_attempted_at`` is set, in the service's transaction, which ends before the refusal
    is raised (so it is kept), and the section pages show the problems beside the fields from
    then on.
    """
    now = now or timezone.now()
    problems: list[Problem] = []
    with transaction.atomic():
        locked = _lock(proposal)
        _require_pi(by, locked, _("Only the principal investigator can submit this proposal."))
        prefetch_related_objects([locked], *submission_prefetches())
        if locked.status != ProposalStatus.DRAFT:
            raise ValidationError(
                _("Only a draft can be submitted; this proposal is %(status)s.")
                % {"status": locked.get_status_display().lower()},
                code="not_draft",
            )
        _check_deadline(locked.call, now)
        overdue = start_refusal(by, locked.call, now)
        if overdue:
            # PRODUCT §8: a PI with an overdue final report cannot submit a new proposal, even
            # one started before the report became overdue.
            raise ValidationError(overdue, code="final_report_overdue")
        problems = proposal_problems(locked)
        if problems:
            Proposal.objects.filter(pk=locked.pk).update(submit_attempted_at=now)
        else:
            version = _freeze(locked, by=by, now=now)
            conflict_sources_changed(locked.call, [locked.pk])
    if problems:
        proposal.submit_attempted_at = now
        raise SubmissionRefused(problems)
    _refresh(proposal, locked, ("status", "reference", "reference_number", "submitted_at"))
    return version


def _next_reference_number(call_id: int) -> tuple[int, str]:
    """The call's next reference number and its prefix, counted in one statement that locks
    the call's row until the transaction ends (so numbers are consecutive, without gaps)."""
    table = Call._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_reference_number = last_reference_number + 1 "  # noqa: S608
            "WHERE id = %s RETURNING last_reference_number, reference_prefix",
            [call_id],
        )
        number, prefix = cursor.fetchone()
    return number, prefix


def _freeze(proposal: Proposal, *, by: User, now: datetime) -> ProposalVersion:
    """The successful half of ``proposal_submit``; runs inside its transaction.

    The call's row, locked to number the first submission, serialises every submission to the
    call (the deadline rush, PRODUCT §10): so everything that does not need the number is read
    before it is taken, and the lock is held only for the last writes.
    """
    snapshot = proposal_snapshot(proposal)
    recipients = _team_recipients(proposal)
    last = proposal.versions.order_by("-number").values_list("number", flat=True).first()
    if proposal.reference is None:
        proposal.reference_number, prefix = _next_reference_number(proposal.call_id)
        proposal.reference = f"{prefix}-{proposal.reference_number:04d}"
        proposal.call.last_reference_number = proposal.reference_number
        snapshot["reference"] = proposal.reference
    proposal.submitted_at = now
    PROPOSAL_LIFECYCLE.move(
        proposal,
        ProposalStatus.SUBMITTED,
        also=("reference", "reference_number", "submitted_at"),
    )
    audit_record(
        subject=proposal,
        action=AuditAction.PROPOSAL_SUBMITTED,
        actor=by,
        call=proposal.call,
        before={"status": ProposalStatus.DRAFT.label},
        after={"status": ProposalStatus.SUBMITTED.label, "reference": proposal.reference},
        at=now,
    )
    version = ProposalVersion.objects.create(
        proposal=proposal,
        number=(last or 0) + 1,
        snapshot=snapshot,
        submitted_at=now,
        submitted_by=by,
    )
    context = {
        "proposal": proposal,
        "call": proposal.call,
        "version": version,
        "submitted_local": call_local(now, proposal.call),
    }
    outbox_queue_each(
        kind=EmailKind.PROPOSAL_SUBMITTED,
        event=f"proposal-submitted:{proposal.pk}:v{version.number}",
        people=recipients,
        context=context,
    )
    return version


def proposal_unsubmit(*, proposal: Proposal, by: User, now: datetime | None = None) -> None:
    """Take a submitted proposal back to draft, before the deadline, so it can change.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError unless it is submitted;
    DeadlinePassed at or after the deadline.

    Side effects: status draft; an audit entry. The versions stay; the reference stays. No
    email.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(proposal)
        _require_pi(
            by, locked, _("Only the principal investigator can take this proposal back to draft.")
        )
        if locked.status != ProposalStatus.SUBMITTED:
            raise ValidationError(
                _("Only a submitted proposal that is not yet in review can be taken back."),
                code="not_submitted",
            )
        if now >= locked.call.closes_at:
            raise DeadlinePassed(
                _(
                    "The call closed on %(deadline)s; a submitted proposal can no longer be "
                    "taken back to draft."
                )
                % {"deadline": call_local(locked.call.closes_at, locked.call)},
                code="deadline",
            )
        PROPOSAL_LIFECYCLE.move(locked, ProposalStatus.DRAFT)
        audit_record(
            subject=locked,
            action=AuditAction.PROPOSAL_TAKEN_BACK,
            actor=by,
            call=locked.call,
            before={"status": ProposalStatus.SUBMITTED.label},
            after={"status": ProposalStatus.DRAFT.label},
            at=now,
        )
    _refresh(proposal, locked, ("status",))


def proposal_withdraw(*, proposal: Proposal, by: User, now: datetime | None = None) -> None:
    """Withdraw a proposal at any time before the decision.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError once it is decided or
    already withdrawn.

    Side effects: status withdrawn, ``withdrawn_at``; an email (``proposal-withdrawn``) to the
    PI and each accepted co-investigator; an audit entry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(proposal)
        _require_pi(by, locked, _("Only the principal investigator can withdraw this proposal."))
        if locked.status not in WITHDRAWABLE:
            raise ValidationError(
                _("This proposal is %(status)s and can no longer be withdrawn.")
                % {"status": locked.get_status_display().lower()},
                code="not_withdrawable",
            )
        before = locked.get_status_display()
        locked.withdrawn_at = now
        PROPOSAL_LIFECYCLE.move(locked, ProposalStatus.WITHDRAWN, also=("withdrawn_at",))
        audit_record(
            subject=locked,
            action=AuditAction.PROPOSAL_WITHDRAWN,
            actor=by,
            call=locked.call,
            before={"status": str(before)},
            after={"status": ProposalStatus.WITHDRAWN.label},
            at=now,
        )
        context = {
            "proposal": locked,
            "call": locked.call,
            "label": locked.reference or locked.title or str(locked),
            "withdrawn_local": call_local(now, locked.call),
            "by": by,
        }
        outbox_queue_each(
            kind=EmailKind.PROPOSAL_WITHDRAWN,
            event=f"proposal-withdrawn:{locked.pk}",
            people=_team_recipients(locked),
            context=context,
        )
    _refresh(proposal, locked, ("status", "withdrawn_at"))


def proposals_begin_review(*, now: datetime | None = None, call: Call | None = None) -> int:
    """From its call's deadline a submitted proposal is under review (PRODUCT §4.2): move
    every submitted proposal of every closed call (or of ``call`` only) to under review.

    Run by the periodic job ``proposals.begin_review`` every few minutes and by publication,
    which needs every proposal in review first. Idempotent: only submitted proposals of calls
    whose deadline has passed move; nothing before the deadline. Returns how many moved.

    Side effects: each such proposal's status under review, under its row lock. No email.
    """
    now = now or timezone.now()
    submitted = Proposal.objects.filter(status=ProposalStatus.SUBMITTED, call__closes_at__lte=now)
    if call is not None:
        submitted = submitted.filter(call=call)
    with transaction.atomic():
        ids = list(
            submitted.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True)
        )
        if not ids:
            return 0
        return PROPOSAL_LIFECYCLE.move_all(
            Proposal.objects.filter(pk__in=ids), ProposalStatus.UNDER_REVIEW
        )
