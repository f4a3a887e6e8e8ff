"""The proposals' half of publishing the decisions, answering an award and promoting from the
waitlist (PRODUCT §6); ``allocations.services.publishing`` holds the other half."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.audit import audit_record
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.decisions.enums import (
    AWARD_RESPONSE_LIFECYCLE,
    AWARDING,
    AwardResponse,
    DecisionOutcome,
)
from proposals.decisions.models import Decision
from proposals.decisions.selectors.amounts import default_amounts
from proposals.decisions.selectors.reviews import ReviewGap, review_gaps
from proposals.decisions.services.budget import (
    ZERO,
    audit_state,
    check_budgets,
    clean_amounts,
    decisions_published,
    lock_budgets,
    write_award_lines,
)
from proposals.review.enums import REVIEW_LIFECYCLE, ReviewState
from proposals.review.models import Review
from proposals.review.selectors.assignment import OUTSTANDING
from proposals.submission.enums import IN_COMPETITION, PROPOSAL_LIFECYCLE, ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.rules import is_pi
from proposals.submission.services.lifecycle import call_local, proposals_begin_review


class MissingDecisions(ValidationError):
    """Publishing needs a decision on every proposal in competition; ``references`` lists
    those without one."""

    def __init__(self, references: list[str]):
        self.references = references
        super().__init__(
            _("Every proposal in competition needs a decision first. Still undecided: %(list)s.")
            % {"list": get_text_list(references, _("and"))},
            code="undecided",
        )


def _close_pending_reviews(call: Call) -> list[int]:
    """Every review invitation and draft of the call still open (invited, accepted) becomes
    closed: nothing is left to do once the decisions are out. Returns their ids."""
    pending = list(
        Review.objects.select_for_update(of=("self",))
        .filter(proposal__call=call, state__in=OUTSTANDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if pending:
        REVIEW_LIFECYCLE.move_all(Review.objects.filter(pk__in=pending), ReviewState.CLOSED)
    return pending


def _early_publication(
    call: Call, proposals: list[Proposal], now: datetime, reason: str
) -> dict[str, object]:
    """What makes publishing now early: the review due date not reached, proposals with fewer
    submitted scientific reviews than the call asks for. PublishNeedsReason when it is early
    and ``reason`` is blank; else what the audit entry keeps (empty when not early)."""
    lacking = review_gaps(call=call, proposals=proposals)
    before_due = now < call.review_due_at
    if not lacking and not before_due:
        return {}
    if not reason.strip():
        raise PublishNeedsReason(lacking=lacking, before_due=before_due, call=call)
    return {
        "early_reason": reason.strip(),
        "before_review_due": before_due,
        "reviews_missing": {gap.reference: f"{gap.submitted}/{gap.needed}" for gap in lacking},
    }


class PublishNeedsReason(ValidationError):
    """Publishing before the review due date or with reviews missing needs the manager's
    reason (PRODUCT §6); ``lacking`` and ``before_due`` say why it is early."""

    def __init__(self, *, lacking: list[ReviewGap], before_due: bool, call: Call):
        self.lacking = lacking
        self.before_due = before_due
        parts = []
        if before_due:
            parts.append(
                _("The reviews are due on %(due)s.") % {"due": call_local(call.review_due_at, call)}
            )
        if lacking:
            parts.append(
                _("Reviews are missing: %(list)s.")
                % {"list": get_text_list([gap.label for gap in lacking], _("and"))}
            )
        parts.append(_("To publish now, give the reason; it is kept in the audit trail."))
        super().__init__(" ".join(parts), code="early")


def decisions_mark_published(
    *, call: Call, by: User, now: datetime, reason: str = ""
) -> list[Decision] | None:
    """Make the call's decisions visible: the proposals' half of
    ``allocations.publishing.decisions_publish``, which calls it in its transaction and
    creates the allocations and emails. Returns None, changing nothing, when the call is
    already published; else the decisions, each with its proposal (and PI).

    Refusals: PermissionDenied unless ``by`` manages the call; MissingDecisions listing the
    proposals in competition without a decision; PublishNeedsReason when reviews are missing
    or the review due date is not reached and ``reason`` is blank (PRODUCT §6).

    Side effects: the call row, its resources and its proposals in competition locked; each
    decision's ``published_at``; each proposal's status set to its outcome (awarded, partially
    awarded, waitlisted, rejected); the call's ``decisions_published_at``; every invited or
    accepted review of the call closed (state closed); an audit entry ``decisions.published``
    with the count per outcome, the reviews closed and, when early, the reason, the reviews
    missing and whether the review due date was still ahead. The caller's call object is
    updated.
    """
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can publish decisions."))
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.decisions_published_at is not None:
            call.decisions_published_at = locked.decisions_published_at
            return None
        if now < locked.closes_at:
            raise ValidationError(
                _("The call is still open: decisions can be published after its deadline."),
                code="call_open",
            )
        # Every submitted proposal is under review from the deadline; the periodic job may
        # not have run yet.
        proposals_begin_review(now=now, call=locked)
        lock_budgets(locked)
        proposals = list(
            Proposal.objects.select_for_update(of=("self",))
            .filter(call=locked, status__in=IN_COMPETITION)
            .select_related("pi")
            .order_by("reference_number", "pk")
        )
        decisions = {
            decision.proposal_id: decision
            for decision in Decision.objects.filter(proposal__in=proposals)
        }
        missing = [p.reference or str(p.pk) for p in proposals if p.pk not in decisions]
        if missing:
            raise MissingDecisions(missing)
        early = _early_publication(locked, proposals, now, reason)
        by_outcome = _publish_each(proposals, decisions, now)
        locked.decisions_published_at = now
        locked.save(update_fields=["decisions_published_at", "updated_at"])
        closed = _close_pending_reviews(locked)
        audit_record(
            subject=locked,
            action="decisions.published",
            actor=by,
            call=locked,
            before={"decisions_published_at": None},
            after={
                "decisions_published_at": now.isoformat(),
                "outcomes": {key: len(ids) for key, ids in by_outcome.items()},
                "reviews_closed": closed,
                **early,
            },
        )
    call.decisions_published_at = now
    return [decisions[proposal.pk] for proposal in proposals]


def _publish_each(
    proposals: list[Proposal], decisions: dict[int, Decision], now: datetime
) -> dict[str, list[int]]:
    """Publish each decision and move each proposal to its outcome; returns the proposal ids
    per outcome. The caller holds the locks."""
    by_outcome: dict[str, list[int]] = {outcome: [] for outcome in DecisionOutcome.values}
    for proposal in proposals:
        decision = decisions[proposal.pk]
        by_outcome[decision.outcome].append(proposal.pk)
        decision.published_at = now
        decision.proposal = proposal
    Decision.objects.filter(pk__in=[d.pk for d in decisions.values()]).update(published_at=now)
    for outcome, ids in by_outcome.items():
        if ids:
            PROPOSAL_LIFECYCLE.move_all(
                Proposal.objects.filter(pk__in=ids), ProposalStatus(outcome)
            )
    for proposal in proposals:
        # lifecycle: the objects see what move_all wrote
        proposal.status = ProposalStatus(decisions[proposal.pk].outcome)
    return by_outcome


def decision_respond(
    *, decision: Decision, by: User, accept: bool, now: datetime | None = None
) -> Decision:
    """The PI accepts or declines a published award, once: the proposals' half of
    ``allocations.publishing.award_respond``, which also releases a declined award's hours.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError when the decision is
    not published, is not an award, or was already answered.

    Side effects: the decision's ``response`` (accepted or declined), ``responded_at`` and
    ``responded_by``; an audit entry ``award.accepted`` or ``award.declined``. A declined
    award's lines stay, but count as nothing against the budget from then on. The caller's
    object is updated; returns the locked decision (with its proposal and call).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Decision.objects.select_for_update(of=("self",))
            .select_related("proposal__call", "proposal__pi")
            .get(pk=decision.pk)
        )
        if not is_pi(by, locked.proposal):
            raise PermissionDenied(_("Only the principal investigator answers an award."))
        if locked.published_at is None:
            raise ValidationError(_("This decision is not published yet."), code="unpublished")
        if locked.outcome not in AWARDING:
            raise ValidationError(
                _("Only an award can be accepted or declined."), code="not_an_award"
            )
        if locked.response != AwardResponse.PENDING:
            raise ValidationError(
                _("This award was already answered: %(response)s.")
                % {"response": locked.get_response_display().lower()},
                code="answered",
            )
        locked.responded_at = now
        locked.responded_by = by
        AWARD_RESPONSE_LIFECYCLE.move(
            locked,
            AwardResponse.ACCEPTED if accept else AwardResponse.DECLINED,
            also=("responded_at", "responded_by", "updated_at"),
        )
        audit_record(
            subject=locked,
            action="award.accepted" if accept else "award.declined",
            actor=by,
            call=locked.proposal.call,
            before={"response": AwardResponse.PENDING.value},
            after={"response": locked.response, "responded_at": now.isoformat()},
        )
    for name in ("response", "responded_at", "responded_by"):
        setattr(decision, name, getattr(locked, name))
    return locked


def decision_promote(
    *,
    decision: Decision,
    by: User,
    amounts: Mapping[int, Decimal | None],
    now: datetime | None = None,
) -> Decision:
    """Award a waitlisted proposal after publication, within what the budgets have left (the
    hours of declined awards, and any never awarded): the proposals' half of
    ``allocations.publishing.waitlist_promote``, which creates the allocation and emails the
    team.

    ``amounts`` as in ``DecisionData`` (a resource left out gets its default). The outcome is
    awarded when every resource gets at least its default, else partially awarded.

    Refusals: PermissionDenied unless ``by`` manages the call; ValidationError unless the
    call's decisions are published and the proposal is waitlisted, or for a wrong amount (as
    ``decisions_save``); OverBudget when a budget would be exceeded (nothing is saved).

    Side effects: the call's resource rows locked; the decision's outcome, ``decided_by`` and
    AwardLines; the proposal's status; an audit entry ``decision.promoted`` with before and
    after. The PI's answer starts as pending. Returns the locked decision.
    """
    now = now or timezone.now()
    call = decision.proposal.call
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers promote proposals from the waitlist."))
    with transaction.atomic():
        offers_list = lock_budgets(call)
        offers = {offer.pk: offer for offer in offers_list}
        locked = (
            Decision.objects.select_for_update(of=("self",))
            .select_related("proposal__call", "proposal__pi")
            .get(pk=decision.pk)
        )
        proposal = locked.proposal
        if not decisions_published(call):
            raise ValidationError(
                _("The decisions are not published yet: change the decision on the page."),
                code="unpublished",
            )
        if locked.outcome != DecisionOutcome.WAITLISTED:
            raise ValidationError(
                _("%(proposal)s is not on the waitlist.") % {"proposal": proposal.reference},
                code="not_waitlisted",
            )
        defaults = default_amounts(proposal_ids=[proposal.pk]).get(proposal.pk, {})
        given = clean_amounts(
            outcome=DecisionOutcome.AWARDED,
            amounts=amounts,
            offers=offers,
            defaults=defaults,
            label=proposal.reference or str(proposal.pk),
        )
        full = all(given.get(key, ZERO) >= value for key, value in defaults.items())
        before = audit_state(locked, {}, offers)
        locked.outcome = DecisionOutcome.AWARDED if full else DecisionOutcome.PARTIALLY_AWARDED
        locked.decided_by = by
        # A waitlisted decision was never answered: its response is still pending.
        locked.save(update_fields=["outcome", "decided_by", "updated_at"])
        write_award_lines(locked, given)
        PROPOSAL_LIFECYCLE.move(proposal, ProposalStatus(locked.outcome))
        audit_record(
            subject=locked,
            action="decision.promoted",
            actor=by,
            call=call,
            before=before,
            after={**audit_state(locked, given, offers), "promoted_at": now.isoformat()},
        )
        check_budgets(call, offers_list)
    return locked
