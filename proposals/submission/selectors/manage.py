"""Reads for the call managers' list of a call's proposals (PRODUCT §9).

Shaped so the page uses a constant number of queries whatever the number of proposals: the
proposals with their PIs in one query, their requests in one more, the call's resources in one.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet

from proposals.calls.models import Call, CallResource
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal, ResourceRequest

# The status filter's own values beside the statuses themselves.
NOT_DRAFTS = ""
ALL_STATUSES = "all"


@dataclass(frozen=True)
class ProposalRow:
    """One proposal and, per resource of the call, the amount it requests (None: nothing)."""

    proposal: Proposal
    amounts: list[tuple[CallResource, Decimal | None]]


@dataclass(frozen=True)
class ResourceTotal:
    """Requested by the listed proposals in competition, against the call's budget."""

    offer: CallResource
    requested: Decimal

    @property
    def factor(self) -> Decimal:
        """The oversubscription factor: requested ÷ budget (budgets are always positive)."""
        return (self.requested / self.offer.budget).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CallProposals:
    offers: list[CallResource]
    rows: list[ProposalRow]
    totals: list[ResourceTotal]


def call_offers(*, call: Call) -> list[CallResource]:
    """The resources of a call, with their names and units, in the order of the columns."""
    return list(call.call_resources.select_related("resource").order_by("resource__name", "pk"))


def _filtered(
    call: Call, *, status: str, field: str, offer: CallResource | None
) -> QuerySet[Proposal]:
    proposals = Proposal.objects.filter(call=call)
    if status == NOT_DRAFTS:
        proposals = proposals.exclude(status=ProposalStatus.DRAFT)
    elif status != ALL_STATUSES:
        proposals = proposals.filter(status=status)
    if field:
        proposals = proposals.filter(field=field)
    if offer is not None:
        asking = ResourceRequest.objects.filter(call_resource=offer, amount__gt=0)
        proposals = proposals.filter(pk__in=asking.values("proposal_id"))
    return proposals


def call_proposals(
    *,
    call: Call,
    offers: list[CallResource],
    status: str = NOT_DRAFTS,
    field: str = "",
    offer: CallResource | None = None,
) -> CallProposals:
    """The proposals of ``call`` for its managers, filtered, in reference order (drafts last).

    ``status``: ``NOT_DRAFTS`` (the default: every proposal but drafts), ``ALL_STATUSES`` or
    one ``ProposalStatus``. ``field``: an ERC panel code or "". ``offer``: only proposals
    requesting more than zero of that resource. ``offers`` are the call's resources (from
    ``call_offers``), which give the amount columns.

    Totals add up the listed proposals that are in competition (submitted, under review or
    decided): drafts and withdrawn proposals are listed but not counted.
    """
    proposals = (
        _filtered(call, status=status, field=field, offer=offer)
        .select_related("pi")
        .prefetch_related(
            Prefetch(
                "requests",
                queryset=ResourceRequest.objects.only("proposal", "call_resource", "amount"),
            )
        )
        .order_by(F("reference_number").asc(nulls_last=True), "created_at", "pk")
    )
    rows = []
    requested = {o.pk: Decimal(0) for o in offers}
    for proposal in proposals:
        amounts = {r.call_resource_id: r.amount for r in proposal.requests.all()}
        rows.append(ProposalRow(proposal, [(o, amounts.get(o.pk)) for o in offers]))
        if proposal.status in IN_COMPETITION:
            for offer_id, amount in amounts.items():
                if offer_id in requested:
                    requested[offer_id] += amount
    return CallProposals(
        offers=offers,
        rows=rows,
        totals=[ResourceTotal(o, requested[o.pk]) for o in offers],
    )
