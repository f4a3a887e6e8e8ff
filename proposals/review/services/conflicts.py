"""Conflicts of interest (PRODUCT §5.1): detected for a call, decided by managers, declared by
reviewers.

A confirmed or declared conflict and an active review of the same pair cannot exist together:
the database refuses it (triggers of migration 0005). So the services here end the review
first (removed, or declined for a declaration) and then block the pair, in one transaction.
"""

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.enums import AuditAction, CallRoleKind
from proposals.calls.models import AuditEntry, Call, CallRole
from proposals.calls.rules import can_manage_call
from proposals.calls.services import audit_entry, audit_record
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    CONFLICT_LIFECYCLE,
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
# The call's reviewer pool: scientific reviewers and technical reviewers (centre staff).
POOL_ROLES = frozenset({CallRoleKind.REVIEWER, CallRoleKind.TECHNICAL})
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
    """Each person of the call's pool once (one can be both kinds of reviewer)."""
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


def conflicts_detect(*, call: Call, by: User | None = None) -> int:
    """Detect the conflicts of interest between the proposals of ``call`` in review
    (submitted, under review) and its reviewer pool (reviewer and technical roles linked to an
    account); returns how many new conflicts were recorded.

    A pair conflicts when the reviewer is the PI or a co-investigator (accepted or invited;
    reason team); has the same affiliation, once normalised, as the PI (the proposal's PI
    affiliation, else the PI's profile) or an accepted co-investigator (reason affiliation);
    or is named, by email or full name, on a line of the proposal's reviewers to exclude
    (reason excluded).

    Idempotent: only missing (proposal, reviewer, reason) rows are created; existing rows,
    decided or not, are left exactly as they are.

    Side effects: Conflict rows with status detected and a detail saying why (in the site's
    default language); an audit entry for each, by ``by`` (None: the system); the call row
    locked for the transaction, so two runs do not race; a log
    entry.
    """
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).first()
        pool = _Pool(_pool_users(call))
        proposals = (
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
        existing = set(
            Conflict.objects.filter(proposal__call=call).values_list(
                "proposal_id", "reviewer_id", "reason"
            )
        )
        new: list[Conflict] = []
        with translation.override(settings.LANGUAGE_CODE):
            for proposal in proposals:
                for (reviewer_id, reason), sentences in _findings(proposal, pool).items():
                    if (proposal.pk, reviewer_id, reason) in existing:
                        continue
                    new.append(
                        Conflict(
                            proposal=proposal,
                            reviewer_id=reviewer_id,
                            reason=reason,
                            status=ConflictStatus.DETECTED,
                            detail=" ".join(dict.fromkeys(sentences)),
                        )
                    )
        Conflict.objects.bulk_create(new, batch_size=500)
        AuditEntry.objects.bulk_create(
            (
                audit_entry(
                    subject=conflict,
                    action=AuditAction.CONFLICT_DETECTED,
                    actor=by,
                    call=call,
                    person=pool.by_id[conflict.reviewer_id].user,
                    subject_name=_conflict_name(conflict, pool.by_id[conflict.reviewer_id].user),
                    after={
                        "reason": str(conflict.get_reason_display()),
                        "detail": conflict.detail,
                    },
                )
                for conflict in new
            ),
            batch_size=500,
        )
    log.info("conflicts detected", extra={"ctx_call": call.pk, "ctx_count": len(new)})
    return len(new)


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


def conflict_declare(
    *, proposal: Proposal, reviewer: User, detail: str, now: datetime | None = None
) -> Conflict:
    """A reviewer declares a conflict of interest with a proposal they were asked to review;
    returns the declared conflict.

    Refusals: PermissionDenied unless ``reviewer`` has a review of the proposal that a
    manager has not removed; ValidationError when ``detail`` is blank or longer than
    DETAIL_MAX_LENGTH, or when a review of the pair became active at the same moment.
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
            if not reviews:
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
