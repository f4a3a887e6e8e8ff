"""Statistics of the calls for their managers (PRODUCT §9): proposals, success rate and
awarded amounts by field of science, country and institution, for one call or across calls,
and the oversubscription of each resource over the cycles.

A proposal counts once it is in competition (submitted, under review or decided); it is
decided once the decisions are published; it succeeded when it was awarded in full or in
part. Awarded amounts are the published awards' lines, summed per unit. A handful of
aggregate queries whatever the number of proposals.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django_countries import countries

from accounts.enums import ScienceField
from proposals.calls.models import Call, CallResource
from proposals.decisions.models import AwardLine
from proposals.submission.enums import DECIDED, IN_COMPETITION, ProposalStatus
from proposals.submission.models import Proposal

SUCCEEDED = (ProposalStatus.AWARDED, ProposalStatus.PARTIALLY_AWARDED)
# Institutions are free text: the page lists those with the most proposals.
INSTITUTIONS_SHOWN = 25
GROUPS = {"field": "field", "country": "pi_country", "institution": "pi_affiliation"}


@dataclass(frozen=True)
class GroupRow:
    """One field, country or institution."""

    label: str
    proposals: int
    decided: int
    succeeded: int
    awarded: dict[str, Decimal] = field(default_factory=dict)  # unit → amount

    @property
    def success_rate(self) -> Decimal | None:
        """Per cent of the decided proposals that were awarded, or None before any decision."""
        if not self.decided:
            return None
        return (Decimal(100) * self.succeeded / self.decided).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Cycle:
    """One resource of one call: asked for by the proposals in competition against budget."""

    call_code: str
    call_pk: int
    resource: str
    unit: str
    budget: Decimal
    requested: Decimal

    @property
    def ratio(self) -> Decimal | None:
        return (self.requested / self.budget).quantize(Decimal("0.01")) if self.budget else None


@dataclass(frozen=True)
class Statistics:
    call: Call | None
    total: GroupRow
    by_field: list[GroupRow]
    by_country: list[GroupRow]
    by_institution: list[GroupRow]
    institutions: int
    cycles: list[Cycle]


def _label(group: str, key: str) -> str:
    if not key:
        return "—"
    if group == "field":
        return str(ScienceField(key).label) if key in ScienceField.values else key
    if group == "country":
        return str(countries.name(key) or key)
    return key


Awarded = dict[str, dict[str, dict[str, Decimal]]]  # group → key → unit → amount


def _awarded(proposals: QuerySet[Proposal]) -> Awarded:
    """The published awards summed per unit and per field, country and institution: one
    query grouped by the three at once."""
    sums: Awarded = {group: defaultdict(lambda: defaultdict(Decimal)) for group in GROUPS}
    columns = [f"decision__proposal__{column}" for column in GROUPS.values()]
    rows = (
        AwardLine.objects.filter(
            decision__proposal__in=proposals.filter(status__in=SUCCEEDED),
            decision__published_at__isnull=False,
        )
        .order_by()
        .values_list(*columns, "call_resource__resource__unit")
        .annotate(total=Sum("amount"))
    )
    for *keys, unit, total in rows:
        for group, key in zip(GROUPS, keys, strict=True):
            sums[group][key or ""][unit] += total
    return sums


def _grouped(proposals: QuerySet[Proposal], group: str, awarded: Awarded) -> list[GroupRow]:
    column = GROUPS[group]
    counts = (
        proposals.order_by()
        .values_list(column)
        .annotate(
            n=Count("pk"),
            decided=Count("pk", filter=Q(status__in=DECIDED)),
            succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
        )
    )
    rows = [
        GroupRow(
            _label(group, key or ""), n, decided, succeeded, dict(awarded[group].get(key or "", {}))
        )
        for key, n, decided, succeeded in counts
    ]
    return sorted(rows, key=lambda row: (-row.proposals, row.label))


def _total(rows: Iterable[GroupRow]) -> GroupRow:
    awarded: dict[str, Decimal] = defaultdict(Decimal)
    proposals = decided = succeeded = 0
    for row in rows:
        proposals, decided, succeeded = (
            proposals + row.proposals,
            decided + row.decided,
            succeeded + row.succeeded,
        )
        for unit, value in row.awarded.items():
            awarded[unit] += value
    return GroupRow("", proposals, decided, succeeded, dict(awarded))


def _cycles(call: Call | None) -> list[Cycle]:
    offers = CallResource.objects.select_related("call", "resource").annotate(
        requested=Sum("requests__amount", filter=Q(requests__proposal__status__in=IN_COMPETITION))
    )
    if call is not None:
        offers = offers.filter(call=call)
    return [
        Cycle(
            call_code=offer.call.code,
            call_pk=offer.call_id,
            resource=offer.resource.name,
            unit=offer.resource.unit,
            budget=offer.budget,
            requested=offer.requested or Decimal(0),
        )
        for offer in offers.order_by("call__opens_at", "call__code", "resource__name")
    ]


def call_statistics(*, call: Call | None = None) -> Statistics:
    """The statistics of ``call``, or of every call when it is None."""
    proposals = Proposal.objects.filter(status__in=IN_COMPETITION)
    if call is not None:
        proposals = proposals.filter(call=call)
    awarded = _awarded(proposals)
    by_field = _grouped(proposals, "field", awarded)
    institutions = _grouped(proposals, "institution", awarded)
    return Statistics(
        call=call,
        total=_total(by_field),
        by_field=by_field,
        by_country=_grouped(proposals, "country", awarded),
        by_institution=institutions[:INSTITUTIONS_SHOWN],
        institutions=len(institutions),
        cycles=_cycles(call),
    )
