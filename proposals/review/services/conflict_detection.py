"""Detection of conflicts of interest (PRODUCT §5.1): who of a call's reviewer pool and
committee is in conflict with which proposal in review, and why; recorded as detected,
withdrawn when the cause is gone, detected again when it comes back. The managers' decisions
and the reviewers' declarations are in ``proposals.review.services.conflicts``.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.audit import audit_entry
from proposals.calls.enums import AuditAction, CallRoleKind
from proposals.calls.models import AuditEntry, Call, CallRole
from proposals.review.enums import (
    CONFLICT_LIFECYCLE,
    DETECTED_REASONS,
    ConflictReason,
    ConflictStatus,
)
from proposals.review.models import Conflict
from proposals.review.normalise import normalise_affiliation, normalise_text
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, TeamMember

log = logging.getLogger(__name__)

# Proposals whose reviewers are still to be chosen; drafts and decided ones are left alone.
DETECTED_FOR = frozenset({ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW})
# Who is checked for conflicts: the call's reviewer pool (scientific reviewers, technical
# reviewers from the centre's staff) and its committee, which conflicts bind as well (§1.1).
POOL_ROLES = frozenset({CallRoleKind.REVIEWER, CallRoleKind.TECHNICAL, CallRoleKind.COMMITTEE})


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
    default language); one audit entry per conflict detected, detected again or withdrawn, by
    ``by`` or nobody (automatic); the call row locked for the transaction, so two runs do not
    race; a log entry. A constant number of queries, whatever the number of proposals.
    """
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).first()
        pool = _Pool(_pool_users(call))
        proposals, existing = _in_review(call, proposal_ids)
        found = _found(proposals, pool)
        new, restored, gone = _record(found, existing, proposals, pool)
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


ConflictKey = tuple[int, int, str]  # proposal id, reviewer id, reason


def _in_review(
    call: Call, proposal_ids: Collection[int] | None
) -> tuple[list[Proposal], dict[ConflictKey, Conflict]]:
    """The proposals detection looks at, with their PI and team, and their detected-kind
    conflicts already recorded (locked), by key."""
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
    existing = {
        (row.proposal_id, row.reviewer_id, row.reason): row
        for row in existing_rows.select_for_update(of=("self",))
    }
    return list(in_review), existing


def _found(proposals: list[Proposal], pool: "_Pool") -> dict[ConflictKey, str]:
    """Every conflict the proposals have with the pool, with its detail (in the site's
    default language: it is stored)."""
    found: dict[ConflictKey, str] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for proposal in proposals:
            for (reviewer_id, reason), sentences in _findings(proposal, pool).items():
                found[(proposal.pk, reviewer_id, reason)] = " ".join(dict.fromkeys(sentences))
    return found


def _record(
    found: dict[ConflictKey, str],
    existing: dict[ConflictKey, Conflict],
    proposals: list[Proposal],
    pool: "_Pool",
) -> tuple[list[Conflict], list[Conflict], list[Conflict]]:
    """Write what detection found against what is recorded: the new conflicts, the withdrawn
    ones detected again, and the detected ones withdrawn (their cause gone, the person still
    in the call)."""
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
    return new, restored, gone


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
