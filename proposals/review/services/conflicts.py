"""Conflicts of interest (PRODUCT §5.1): detected for a call, decided by managers, declared by
reviewers.

A confirmed or declared conflict and an active review of the same pair cannot exist together:
the database refuses it (triggers of migration 0005). So the services here end the review
first (removed, or declined for a declaration) and then block the pair, in one transaction.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.audit import audit_entry, audit_record
from proposals.calls.enums import AuditAction, CallRoleKind
from proposals.calls.models import AuditEntry, Call, CallRole
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    CONFLICT_LIFECYCLE,
    DETECTED_REASONS,
    REVIEW_LIFECYCLE,
    ConflictReason,
    ConflictStatus,
    ReviewState,
)
from proposals.review.models import Conflict, Review
from proposals.review.normalise import normalise_affiliation, normalise_text
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, TeamMember

log = logging.getLogger(__name__)

# Proposals whose reviewers are still to be chosen; drafts and decided ones are left alone.
DETECTED_FOR = frozenset({ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW})
# Who is checked for conflicts: the call's reviewer pool (scientific reviewers, technical
# reviewers from the centre's staff) and its committee, which conflicts bind as well (§1.1).
POOL_ROLES = frozenset({CallRoleKind.REVIEWER, CallRoleKind.TECHNICAL, CallRoleKind.COMMITTEE})
# What a declared conflict writes into the reviewer's declined review (stored, not shown
# through gettext: it is data, like the reasons reviewers type themselves).
DECLINE_REASON = "Conflict of interest declared"
DETAIL_MAX_LENGTH = 2000

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class _Candidate:
    """A reviewer of the pool, with the keys detection compares."""

    user: User
    email: str
    name: str
    affiliation: str


class _Pool:
    """The call's reviewer pool, indexed for lookups by id, email, name and affiliation, so
    detection costs the size of the proposals, not proposals × reviewers."""

    def __init__(self, users: list[User]) -> None:
        self.by_id: dict[int, _Candidate] = {}
        self.by_email: dict[str, _Candidate] = {}
        self.by_name: dict[str, list[_Candidate]] = defaultdict(list)
        self.by_affiliation: dict[str, list[_Candidate]] = defaultdict(list)
        for user in users:
            candidate = _Candidate(
                user=user,
                email=user.email.casefold(),
                name=normalise_text(user.full_name),
                affiliation=normalise_affiliation(user.affiliation),
            )
            self.by_id[user.pk] = candidate
            self.by_email[candidate.email] = candidate
            if candidate.name:
                self.by_name[candidate.name].append(candidate)
            if candidate.affiliation:
                self.by_affiliation[candidate.affiliation].append(candidate)
        self.longest_name = max((len(name.split()) for name in self.by_name), default=0)

    def named_in(self, line: str) -> list[_Candidate]:
        """Reviewers whose email is in ``line``, or whose full name is, as whole words."""
        found = {}
        for email in _EMAIL.findall(line):
            candidate = self.by_email.get(email.casefold())
            if candidate is not None:
                found[candidate.user.pk] = candidate
        words = normalise_text(line).split()
        for size in range(1, min(self.longest_name, len(words)) + 1):
            for start in range(len(words) - size + 1):
                for candidate in self.by_name.get(" ".join(words[start : start + size]), []):
                    found[candidate.user.pk] = candidate
        return list(found.values())


def _pool_users(call: Call) -> list[User]:
    """Each person of the call's pool and committee once (one can hold several roles)."""
    roles = CallRole.objects.filter(call=call, role__in=POOL_ROLES, user__isnull=False)
    return list(User.objects.filter(pk__in=roles.values("user_id")).order_by("pk"))


def _findings(proposal: Proposal, pool: _Pool) -> dict[tuple[int, str], list[str]]:
    """Why each reviewer of the pool is in conflict with ``proposal``: (reviewer id, reason)
    → sentences for the row's detail, in the default language."""
    found: dict[tuple[int, str], list[str]] = defaultdict(list)

    def note(candidate: _Candidate | None, reason: str, sentence: str) -> None:
        if candidate is not None:
            found[(candidate.user.pk, reason)].append(sentence)

    pi = proposal.pi
    note(
        pool.by_id.get(pi.pk),
        ConflictReason.TEAM,
        _("%(name)s is the principal investigator.") % {"name": pi.display_name},
    )
    members = list(proposal.team.all())
    for member in members:
        by_user = pool.by_id.get(member.user_id) if member.user_id is not None else None
        candidate = by_user or pool.by_email.get(member.email.casefold())
        if member.status == TeamStatus.ACCEPTED:
            sentence = _("%(name)s is a co-investigator.")
        else:
            sentence = _("%(name)s is invited as a co-investigator.")
        name = member.user.display_name if member.user is not None else member.email
        note(candidate, ConflictReason.TEAM, sentence % {"name": name})

    # Whose affiliation counts: the PI's as on the proposal (else their profile's), and each
    # accepted co-investigator's profile. Nobody conflicts with themselves through it.
    affiliations = [(pi, proposal.pi_affiliation or pi.affiliation, True)]
    affiliations += [
        (member.user, member.user.affiliation, False)
        for member in members
        if member.status == TeamStatus.ACCEPTED and member.user is not None
    ]
    for person, affiliation, is_the_pi in affiliations:
        for candidate in pool.by_affiliation.get(normalise_affiliation(affiliation), []):
            if candidate.user.pk == person.pk:
                continue
            values = {"name": person.display_name, "affiliation": affiliation.strip()}
            if is_the_pi:
                sentence = _("Same affiliation as the PI, %(name)s: %(affiliation)s.") % values
            else:
                sentence = (
                    _("Same affiliation as co-investigator %(name)s: %(affiliation)s.") % values
                )
            note(candidate, ConflictReason.AFFILIATION, sentence)

    for line in proposal.excluded_reviewers.splitlines():
        for candidate in pool.named_in(line):
            note(
                candidate,
                ConflictReason.EXCLUDED,
                _("The applicant asked to exclude: “%(line)s”.") % {"line": line.strip()},
            )
    return found


@dataclass(frozen=True)
class DetectionResult:
    """What a detection run changed: conflicts recorded for the first time, withdrawn ones
    whose cause came back (detected again), and detected ones whose cause is gone
    (withdrawn)."""

    created: int = 0
    restored: int = 0
    withdrawn: int = 0

    @property
    def found(self) -> int:
        return self.created + self.restored


def conflicts_refresh(
    *, call: Call, proposal_ids: Collection[int] | None = None, by: User | None = None
) -> DetectionResult:
    """Detect the conflicts of interest between the proposals of ``call`` in review
    (submitted, under review; only ``proposal_ids`` when given) and the people who read them
    for the call: its reviewer pool (reviewer and technical roles) and its committee, each
    linked to an account (PRODUCT §5.1).

    A pair conflicts when the person is the PI or a co-investigator (accepted or invited;
    reason team); has the same affiliation, once normalised, as the PI (the proposal's PI
    affiliation, else the PI's profile) or an accepted co-investigator (reason affiliation);
    or is named, by email or full name, on a line of the proposal's reviewers to exclude
    (reason excluded).

    Idempotent: a missing (proposal, person, reason) row is created as detected; a withdrawn
    one whose cause is back is detected again; a detected one whose cause is gone (the person
    still in the call) is withdrawn. Confirmed, dismissed and declared rows are left exactly as
    they are: a manager's decision stands until a manager undoes it.

    Runs by itself whenever what it reads changes (``proposals.calls.hooks``,
    ``accounts.hooks``: a submission, a team change, the call's people, an affiliation), before
    every suggestion and every manual assignment, and when a manager asks.

    Side effects: Conflict rows created or moved, with a detail saying why (in the site's
    default language); when anything changed, one audit entry on the call
    (``conflicts_detected``: the rows detected, detected again and withdrawn), by ``by`` or
    nobody (automatic); the call row locked for the transaction, so two runs do not race; a
    log entry. A constant number of queries, whatever the number of proposals or conflicts.
    """
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).first()
        pool = _Pool(_pool_users(call))
        in_review = (
            Proposal.objects.filter(call=call, status__in=DETECTED_FOR)
            .select_related("pi")
            .prefetch_related(
                Prefetch(
                    "team",
                    queryset=TeamMember.objects.filter(
                        status__in=[TeamStatus.ACCEPTED, TeamStatus.INVITED]
                    ).select_related("user"),
                )
            )
            .order_by("pk")
        )
        existing_rows = Conflict.objects.filter(proposal__call=call, reason__in=DETECTED_REASONS)
        if proposal_ids is not None:
            in_review = in_review.filter(pk__in=proposal_ids)
            existing_rows = existing_rows.filter(proposal_id__in=proposal_ids)
        proposals = list(in_review)
        existing = {
            (row.proposal_id, row.reviewer_id, row.reason): row
            for row in existing_rows.select_for_update(of=("self",))
        }
        found: dict[tuple[int, int, str], str] = {}
        with translation.override(settings.LANGUAGE_CODE):
            for proposal in proposals:
                for (reviewer_id, reason), sentences in _findings(proposal, pool).items():
                    found[(proposal.pk, reviewer_id, reason)] = " ".join(dict.fromkeys(sentences))
        new = [
            Conflict(
                proposal_id=key[0],
                reviewer_id=key[1],
                reason=key[2],
                status=ConflictStatus.DETECTED,
                detail=detail,
            )
            for key, detail in found.items()
            if key not in existing
        ]
        Conflict.objects.bulk_create(new, batch_size=500)
        restored = [
            row
            for key, row in existing.items()
            if key in found and row.status == ConflictStatus.WITHDRAWN
        ]
        in_scope = {p.pk for p in proposals}
        gone = [
            row
            for key, row in existing.items()
            if key not in found
            and row.status == ConflictStatus.DETECTED
            and row.proposal_id in in_scope
            and row.reviewer_id in pool.by_id
        ]
        for row in restored:
            row.detail = found[(row.proposal_id, row.reviewer_id, row.reason)]
            CONFLICT_LIFECYCLE.move(row, ConflictStatus.DETECTED, also=("detail",))
        if gone:
            CONFLICT_LIFECYCLE.move_all(
                Conflict.objects.filter(pk__in=[row.pk for row in gone]), ConflictStatus.WITHDRAWN
            )
        by_pk = {proposal.pk: proposal for proposal in proposals}
        AuditEntry.objects.bulk_create(
            [
                _detection_entry(row, action, by, call, pool.by_id[row.reviewer_id].user, by_pk)
                for rows, action in (
                    (new, AuditAction.CONFLICT_DETECTED),
                    (restored, AuditAction.CONFLICT_DETECTED_AGAIN),
                    (gone, AuditAction.CONFLICT_WITHDRAWN),
                )
                for row in rows
            ],
            batch_size=500,
        )
    result = DetectionResult(created=len(new), restored=len(restored), withdrawn=len(gone))
    if new or restored or gone:
        log.info(
            "conflicts detected",
            extra={
                "ctx_call": call.pk,
                "ctx_created": result.created,
                "ctx_restored": result.restored,
                "ctx_withdrawn": result.withdrawn,
            },
        )
    return result


def conflicts_detect(*, call: Call, by: User | None = None) -> int:
    """Detection over the whole call (``conflicts_refresh``); returns how many conflicts are
    newly detected (recorded, or detected again)."""
    return conflicts_refresh(call=call, by=by).found


def conflicts_refresh_for(call: Call, proposal_ids: Collection[int] | None) -> None:
    """``proposals.calls.hooks`` listener: detection again where its sources changed (the
    call's people: the whole call; a submission or a team: those proposals)."""
    conflicts_refresh(call=call, proposal_ids=proposal_ids)


def conflicts_refresh_for_person(user: User) -> None:
    """``accounts.hooks`` listener: ``user``'s affiliation or name changed. Detection again
    for every call where they review or sit on the committee, and for the proposals in review
    they are on the team of."""
    calls = set(
        CallRole.objects.filter(user=user, role__in=POOL_ROLES)
        .filter(call__proposals__status__in=DETECTED_FOR)
        .values_list("call_id", flat=True)
    )
    on_team: dict[int, set[int]] = defaultdict(set)
    proposals = Proposal.objects.filter(status__in=DETECTED_FOR).filter(
        Q(pi=user) | Q(team__user=user, team__status__in=[TeamStatus.ACCEPTED, TeamStatus.INVITED])
    )
    for proposal_id, call_id in proposals.values_list("pk", "call_id").distinct():
        if call_id not in calls:
            on_team[call_id].add(proposal_id)
    for call in Call.objects.filter(pk__in=calls | set(on_team)).order_by("pk"):
        conflicts_refresh(call=call, proposal_ids=None if call.pk in calls else on_team[call.pk])


def _described(conflict: Conflict) -> dict[str, object]:
    return {
        "conflict": conflict.pk,
        "proposal": conflict.proposal_id,
        "person": conflict.reviewer_id,
        "reason": conflict.reason,
        "detail": conflict.detail,
    }


def _audit(conflict: Conflict, action: str, by: User | None, *, call: Call, **before) -> None:
    """One audit entry for a change of ``conflict``; ``before`` holds what it was."""
    audit_record(
        subject=conflict,
        action=action,
        actor=by,
        call=call,
        before=before,
        after={**_described(conflict), "status": conflict.status},
    )


def _detection_entry(
    conflict: Conflict,
    action: str,
    by: User | None,
    call: Call,
    reviewer: User,
    proposals: dict[int, Proposal],
) -> AuditEntry:
    """The audit entry of one conflict a detection run found, found again or withdrew."""
    conflict.proposal = proposals[conflict.proposal_id]
    return audit_entry(
        subject=conflict,
        action=action,
        actor=by,
        call=call,
        person=reviewer,
        subject_name=_conflict_name(conflict, reviewer),
        after={"reason": str(conflict.get_reason_display()), "detail": conflict.detail},
    )


def _conflict_name(conflict: Conflict, reviewer: User) -> str:
    return f"{reviewer.display_name} × {conflict.proposal}: {conflict.get_reason_display()}"


def _lock_pair(proposal_id: int, reviewer_id: int) -> list[Review]:
    """The pair's reviews, locked: the proposal row first (the order the other review
    services use), then the reviews."""
    Proposal.objects.select_for_update(of=("self",)).filter(pk=proposal_id).first()
    return list(
        Review.objects.select_for_update(of=("self",))
        .filter(proposal_id=proposal_id, reviewer_id=reviewer_id)
        .order_by("pk")
    )


def conflict_decide(
    *, conflict: Conflict, by: User, confirm: bool, now: datetime | None = None
) -> int:
    """A call manager confirms (``confirm=True``) or dismisses a detected conflict; returns
    how many active reviews of the pair were removed to confirm it.

    Refusals: PermissionDenied unless ``by`` manages the proposal's call; ValidationError when
    the conflict is no longer detected (decided by someone else, or declared), or when a
    review of the pair became active at the same moment (try again).

    Side effects: when confirming, each active review (invited, accepted, submitted) of the
    pair is set to removed first, since the database refuses a blocking conflict beside an
    active review; the conflict's status, ``decided_by`` and ``decided_at``; the caller's
    object is updated; an audit entry; a log entry. Dismissing never touches a review.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            reviews = _lock_pair(conflict.proposal_id, conflict.reviewer_id)
            locked = (
                Conflict.objects.select_for_update(of=("self",))
                .select_related("proposal__call")
                .get(pk=conflict.pk)
            )
            if not can_manage_call(by, locked.proposal.call):
                raise PermissionDenied(_("Only call managers decide conflicts of interest."))
            if locked.status != ConflictStatus.DETECTED:
                raise ValidationError(
                    _("This conflict of interest is already %(status)s.")
                    % {"status": locked.get_status_display().lower()},
                    code="decided",
                )
            removed = [r for r in reviews if r.state in ACTIVE_REVIEW_STATES] if confirm else []
            for review in removed:
                REVIEW_LIFECYCLE.move(review, ReviewState.REMOVED)
            locked.decided_by = by
            locked.decided_at = now
            CONFLICT_LIFECYCLE.move(
                locked,
                ConflictStatus.CONFIRMED if confirm else ConflictStatus.DISMISSED,
                also=("decided_by", "decided_at"),
            )
            audit_record(
                subject=locked,
                action=AuditAction.CONFLICT_CONFIRMED
                if confirm
                else AuditAction.CONFLICT_DISMISSED,
                actor=by,
                call=locked.proposal.call,
                person=locked.reviewer,
                before={"status": ConflictStatus.DETECTED.label},
                after={
                    "status": str(locked.get_status_display()),
                    "reviews removed": str(len(removed)),
                },
                at=now,
            )
    except IntegrityError as error:
        raise ValidationError(
            _("A review of this pair was assigned at the same moment. Please try again."),
            code="race",
        ) from error
    # lifecycle: the caller sees the locked row
    conflict.status, conflict.decided_by, conflict.decided_at = locked.status, by, now
    log.info(
        "conflict decided",
        extra={
            "ctx_conflict": conflict.pk,
            "ctx_status": locked.status,
            "ctx_by": by.pk,
            "ctx_reviews_removed": [r.pk for r in removed],
        },
    )
    return len(removed)


def conflict_undo(*, conflict: Conflict, by: User) -> None:
    """A call manager undoes the confirmation or the dismissal of a detected conflict: it is
    detected again, to be decided anew (PRODUCT §5.1).

    Refusals: PermissionDenied unless ``by`` manages the proposal's call; ValidationError
    unless the conflict is confirmed or dismissed (a declared one is the reviewer's word).

    Side effects: status detected, ``decided_by`` and ``decided_at`` emptied; reviews removed
    when it was confirmed stay removed (the pair is never suggested again); the caller's object
    updated; an audit entry (``conflict_confirmation_undone`` or ``conflict_dismissal_undone``)
    with who decided it and when; a log entry.
    """
    with transaction.atomic():
        locked = (
            Conflict.objects.select_for_update(of=("self",))
            .select_related("proposal__call")
            .get(pk=conflict.pk)
        )
        if not can_manage_call(by, locked.proposal.call):
            raise PermissionDenied(_("Only call managers decide conflicts of interest."))
        if locked.status not in (ConflictStatus.CONFIRMED, ConflictStatus.DISMISSED):
            raise ValidationError(
                _("Only a confirmed or dismissed conflict can be undone; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()},
                code="not_decided",
            )
        before = {
            "status": locked.status,
            "decided_by": locked.decided_by_id,
            "decided_at": locked.decided_at.isoformat() if locked.decided_at else None,
        }
        action = (
            AuditAction.CONFLICT_CONFIRMATION_UNDONE
            if locked.status == ConflictStatus.CONFIRMED
            else AuditAction.CONFLICT_DISMISSAL_UNDONE
        )
        locked.decided_by = None
        locked.decided_at = None
        CONFLICT_LIFECYCLE.move(locked, ConflictStatus.DETECTED, also=("decided_by", "decided_at"))
        _audit(locked, action, by, call=locked.proposal.call, **before)
    # lifecycle: the caller sees the locked row
    conflict.status, conflict.decided_by, conflict.decided_at = locked.status, None, None
    log.info(
        "conflict decision undone",
        extra={"ctx_conflict": conflict.pk, "ctx_by": by.pk, "ctx_was": before["status"]},
    )


def conflict_declare(
    *, proposal: Proposal, reviewer: User, detail: str, now: datetime | None = None
) -> Conflict:
    """A reviewer declares a conflict of interest with a proposal they were asked to review, or
    a committee member with a proposal of their call; returns the declared conflict.

    Refusals: PermissionDenied unless ``reviewer`` has a review of the proposal that a
    manager has not removed, or is on the call's committee; ValidationError when ``detail``
    is blank or longer than DETAIL_MAX_LENGTH, or when a review of the pair became active at
    the same moment.
    Declaring again returns the existing declaration unchanged.

    Side effects: each active review of the pair becomes declined, with ``decline_reason``
    DECLINE_REASON and ``responded_at``, first (the database refuses a declared conflict
    beside an active review); then a Conflict row with reason and status declared and the
    reviewer's ``detail``; an audit entry; a log entry. The reviewer can no longer see the proposal.
    """
    now = now or timezone.now()
    detail = detail.strip()
    if not detail:
        raise ValidationError(
            _("Please say briefly why you are in conflict with this proposal."), code="required"
        )
    if len(detail) > DETAIL_MAX_LENGTH:
        raise ValidationError(
            _("Please keep the explanation under %(limit)d characters.")
            % {"limit": DETAIL_MAX_LENGTH},
            code="max_length",
        )
    try:
        with transaction.atomic():
            reviews = [
                r for r in _lock_pair(proposal.pk, reviewer.pk) if r.state != ReviewState.REMOVED
            ]
            if not reviews and not is_committee_member(reviewer, proposal.call):
                raise PermissionDenied(_("You are not a reviewer of this proposal."))
            declined = [r for r in reviews if r.state in ACTIVE_REVIEW_STATES]
            for review in declined:
                review.decline_reason = DECLINE_REASON
                review.responded_at = now
                REVIEW_LIFECYCLE.move(
                    review, ReviewState.DECLINED, also=("decline_reason", "responded_at")
                )
            conflict, created = Conflict.objects.get_or_create(
                proposal=proposal,
                reviewer=reviewer,
                reason=ConflictReason.DECLARED,
                defaults={"status": ConflictStatus.DECLARED, "detail": detail},
            )
            if created:
                audit_record(
                    subject=conflict,
                    action=AuditAction.CONFLICT_DECLARED,
                    actor=reviewer,
                    call=proposal.call,
                    person=reviewer,
                    after={"detail": detail, "reviews declined": str(len(declined))},
                    at=now,
                )
    except IntegrityError as error:
        raise ValidationError(
            _("You were assigned to this proposal at the same moment. Please try again."),
            code="race",
        ) from error
    if created:
        log.info(
            "conflict declared",
            extra={
                "ctx_conflict": conflict.pk,
                "ctx_reviewer": reviewer.pk,
                "ctx_reviews_declined": [r.pk for r in declined],
            },
        )
    return conflict
