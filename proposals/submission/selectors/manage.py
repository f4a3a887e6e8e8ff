"""Reads for the call managers' list of a call's proposals (PRODUCT §9).

Shaped so the page uses a constant number of queries whatever the number of proposals: the
proposals with their PIs in one query, their requests in one more, the call's resources in one.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import F, Prefetch, QuerySet, Sum

from proposals.calls.models import Call, CallResource
from proposals.submission.enums import IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal, ResourceRequest

# The status filter's own values beside the statuses themselves.
NOT_DRAFTS = ""
ALL_STATUSES = "all"
CALL_PROPOSALS_PAGE_SIZE = 50


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
    """One page of the listed proposals (``rows``), and the totals of every listed one."""

    offers: list[CallResource]
    rows: list[ProposalRow]
    totals: list[ResourceTotal]
    page_obj: Page


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
    page: str | int | None = None,
) -> CallProposals:
    """One page of the proposals of ``call`` for its managers, filtered, in reference order
    (drafts last): filtered, sorted and paged in the query; five queries whatever the rows.

    ``status``: ``NOT_DRAFTS`` (the default: every proposal but drafts), ``ALL_STATUSES`` or
    one ``ProposalStatus``. ``field``: an ERC panel code or "". ``offer``: only proposals
    requesting more than zero of that resource. ``offers`` are the call's resources (from
    ``call_offers``), which give the amount columns.

    Totals add up every listed proposal (on any page) that is in competition (submitted, under
    review or decided), in one grouped query: drafts and withdrawn proposals are listed but
    not counted.
    """
    listed = _filtered(call, status=status, field=field, offer=offer)
    proposals = (
        listed.select_related("pi")
        .prefetch_related(
            Prefetch(
                "requests",
                queryset=ResourceRequest.objects.only("proposal", "call_resource", "amount"),
            )
        )
        .order_by(F("reference_number").asc(nulls_last=True), "created_at", "pk")
    )
    page_obj = Paginator(proposals, CALL_PROPOSALS_PAGE_SIZE).get_page(page)
    rows = []
    for proposal in page_obj.object_list:
        amounts = {r.call_resource_id: r.amount for r in proposal.requests.all()}
        rows.append(ProposalRow(proposal, [(o, amounts.get(o.pk)) for o in offers]))
    in_competition = (
        ResourceRequest.objects.filter(
            proposal__in=listed.filter(status__in=IN_COMPETITION).values("pk"),
            call_resource__in=[o.pk for o in offers],
        )
        .values("call_resource_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    requested = {row["call_resource_id"]: row["total"] for row in in_competition}
    return CallProposals(
        offers=offers,
        rows=rows,
        totals=[ResourceTotal(o, requested.get(o.pk) or Decimal(0)) for o in offers],
        page_obj=page_obj,
    )
