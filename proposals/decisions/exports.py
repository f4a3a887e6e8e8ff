"""A call's proposals, reviews and decisions as tables to download (PRODUCT §9), each built
for its reader so that it shows what the pages show them and no more (PRODUCT §1.1):

- proposals and decisions: call managers only (the views check it);
- reviews: the call's committee and its managers; a committee member's table leaves out the
  proposals they are in conflict with or on the team of, as their ranking does.

The tables are written by ``accounts.exports`` (CSV or XLSX, formulas neutralised). A constant
number of queries per table, whatever the number of rows. Nobody's reviewers-to-exclude list
is exported: it stays on the manager's page of each proposal.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.exports import Table
from accounts.models import User
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.decisions.models import AwardLine, Decision
from proposals.review.enums import ReviewState
from proposals.review.models import Review, ReviewScore
from proposals.review.selectors.ranking import hidden_from
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal, ResourceRequest
from proposals.submission.selectors.manage import call_offers


def _offer_titles(call: Call, template: str) -> tuple[list[int], list[str]]:
    offers = call_offers(call=call)
    titles = [
        template % {"resource": offer.resource.name, "unit": offer.resource.unit}
        for offer in offers
    ]
    return [offer.pk for offer in offers], titles


def _requested(proposals: QuerySet[Proposal]) -> dict[int, dict[int, Decimal]]:
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = ResourceRequest.objects.filter(proposal__in=proposals).values_list(
        "proposal_id", "call_resource_id", "amount"
    )
    for proposal_id, offer_id, amount in rows:
        amounts[proposal_id][offer_id] = amount
    return amounts


def proposals_table(*, call: Call) -> Table:
    """Every proposal of ``call`` but the drafts: who, what, where from, what it asks for."""
    proposals = (
        Proposal.objects.filter(call=call)
        .exclude(status=ProposalStatus.DRAFT)
        .select_related("pi")
        .order_by("reference_number", "pk")
    )
    offer_ids, offer_titles = _offer_titles(call, _("%(resource)s requested (%(unit)s)"))
    requested = _requested(proposals)
    rows = [
        [
            proposal.reference,
            proposal.acronym,
            proposal.title,
            proposal.get_status_display(),
            proposal.pi.display_name,
            proposal.pi.email,
            proposal.pi_affiliation,
            proposal.pi_country.name if proposal.pi_country else "",
            proposal.get_field_display(),
            proposal.submitted_at,
            *[requested[proposal.pk].get(offer_id) for offer_id in offer_ids],
        ]
        for proposal in proposals
    ]
    columns = [
        _("Reference"),
        _("Acronym"),
        _("Title"),
        _("Status"),
        _("Principal investigator"),
        _("Email"),
        _("Affiliation"),
        _("Country"),
        _("Field of science"),
        _("Submitted at"),
        *offer_titles,
    ]
    return Table(name=f"{call.code} proposals", columns=columns, rows=rows)


def reviews_table(*, call: Call, user: User) -> Table:
    """The submitted reviews of the call's proposals in competition, with the reviewer's name,
    each criterion's score and both comments, for a reader of the ranking (the view checks)."""
    proposals = Proposal.objects.filter(call=call, status__in=IN_COMPETITION)
    if not can_manage_call(user, call):
        proposals = proposals.exclude(hidden_from(user))
    reviews = list(
        Review.objects.filter(proposal__in=proposals, state=ReviewState.SUBMITTED)
        .select_related("proposal", "reviewer")
        .order_by("proposal__reference_number", "proposal_id", "kind", "submitted_at", "pk")
    )
    criteria = list(call.criteria.order_by("position", "pk"))
    scores: dict[int, dict[int, int]] = defaultdict(dict)
    for review_id, criterion_id, value in ReviewScore.objects.filter(
        review__in=[review.pk for review in reviews]
    ).values_list("review_id", "criterion_id", "value"):
        scores[review_id][criterion_id] = value
    rows = [
        [
            review.proposal.reference,
            review.proposal.acronym,
            review.reviewer.display_name,
            review.get_kind_display(),
            review.submitted_at,
            *[scores[review.pk].get(criterion.pk) for criterion in criteria],
            review.get_recommendation_display() if review.recommendation else "",
            review.get_verdict_display() if review.verdict else "",
            review.comment_to_applicant,
            review.confidential_comment,
        ]
        for review in reviews
    ]
    columns = [
        _("Reference"),
        _("Acronym"),
        _("Reviewer"),
        _("Kind"),
        _("Submitted at"),
        *[
            _("%(criterion)s (%(low)s–%(high)s)")
            % {"criterion": c.name, "low": c.scale_min, "high": c.scale_max}
            for c in criteria
        ],
        _("Recommendation"),
        _("Technical verdict"),
        _("Comment to the applicant"),
        _("Confidential comment to the committee"),
    ]
    return Table(name=f"{call.code} reviews", columns=columns, rows=rows)


def decisions_table(*, call: Call) -> Table:
    """Every decision of the call: the outcome, the amounts awarded per resource, whether it
    is published and the applicant's answer."""
    decisions = list(
        Decision.objects.filter(proposal__call=call)
        .select_related("proposal", "proposal__pi")
        .order_by("proposal__reference_number", "proposal_id")
    )
    offer_ids, offer_titles = _offer_titles(call, _("%(resource)s awarded (%(unit)s)"))
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for decision_id, offer_id, amount in AwardLine.objects.filter(
        decision__in=[decision.pk for decision in decisions]
    ).values_list("decision_id", "call_resource_id", "amount"):
        amounts[decision_id][offer_id] = amount
    rows = [
        [
            decision.proposal.reference,
            decision.proposal.acronym,
            decision.proposal.title,
            decision.proposal.pi.display_name,
            decision.get_outcome_display(),
            *[amounts[decision.pk].get(offer_id) for offer_id in offer_ids],
            decision.published_at,
            decision.get_response_display() if decision.response else "",
            decision.message,
        ]
        for decision in decisions
    ]
    columns = [
        _("Reference"),
        _("Acronym"),
        _("Title"),
        _("Principal investigator"),
        _("Decision"),
        *offer_titles,
        _("Published at"),
        _("Applicant's answer"),
        _("Message to the applicant"),
    ]
    return Table(name=f"{call.code} decisions", columns=columns, rows=rows)
