"""What counts against a call's budgets, and the default award of a proposal (PRODUCT §6).

What counts against a budget is decided once, here (``counted_award_lines``): the award lines
of awarded and partially awarded proposals still in competition, except an award its PI
declined, which frees its hours.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import QuerySet, Sum

from proposals.calls.models import Call
from proposals.decisions.enums import AWARDING, AwardResponse
from proposals.decisions.models import AwardLine
from proposals.review.enums import ReviewKind, ReviewState
from proposals.review.models import TechnicalRecommendation
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import ResourceRequest

ZERO = Decimal(0)


def default_amount(requested: Decimal | None, recommended: Decimal | None) -> Decimal:
    """The default award of one resource (PRODUCT §6): the request, capped by the technical
    recommendation when there is one; nothing asked, nothing given."""
    if requested is None:
        return ZERO
    if recommended is None:
        return requested
    return min(requested, recommended)


def counted_award_lines(call: Call) -> QuerySet[AwardLine]:
    """The award lines that use a budget of ``call``: awards (full or partial) of proposals in
    competition, except those the PI declined (their lines stay for the record)."""
    return AwardLine.objects.filter(
        decision__proposal__call=call,
        decision__proposal__status__in=IN_COMPETITION,
        decision__outcome__in=AWARDING,
    ).exclude(decision__response=AwardResponse.DECLINED)


def awarded_totals(*, call: Call) -> dict[int, Decimal]:
    """What the call's awards use of each budget, by call resource id. One query."""
    totals = (
        counted_award_lines(call)
        .order_by()
        .values("call_resource_id")
        .annotate(total=Sum("amount"))
        .values_list("call_resource_id", "total")
    )
    return dict(totals)


def default_amounts(*, proposal_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """The default award per resource (``default_amount``) of each proposal, by proposal id
    then call resource id; only resources with a positive default are listed.

    The recommendation is that of the latest submitted technical review, as in the ranking.
    Two queries.
    """
    ids = set(proposal_ids)
    requested: dict[int, dict[int, Decimal]] = {pk: {} for pk in ids}
    for proposal_id, offer_id, amount in (
        ResourceRequest.objects.filter(proposal_id__in=ids)
        .order_by()
        .values_list("proposal_id", "call_resource_id", "amount")
    ):
        requested[proposal_id][offer_id] = amount
    latest: dict[int, int] = {}  # proposal id → its latest submitted technical review's id
    recommended: dict[int, dict[int, Decimal]] = {pk: {} for pk in ids}
    rows = (
        TechnicalRecommendation.objects.filter(
            review__proposal_id__in=ids,
            review__kind=ReviewKind.TECHNICAL,
            review__state=ReviewState.SUBMITTED,
        )
        .order_by("review__proposal_id", "-review__submitted_at", "-review_id")
        .values_list("review__proposal_id", "review_id", "call_resource_id", "amount")
    )
    for proposal_id, review_id, offer_id, amount in rows:
        if latest.setdefault(proposal_id, review_id) == review_id:
            recommended[proposal_id][offer_id] = amount
    result: dict[int, dict[int, Decimal]] = {}
    for proposal_id in ids:
        amounts = {
            offer_id: default_amount(amount, recommended[proposal_id].get(offer_id))
            for offer_id, amount in requested[proposal_id].items()
        }
        result[proposal_id] = {key: value for key, value in amounts.items() if value > 0}
    return result
