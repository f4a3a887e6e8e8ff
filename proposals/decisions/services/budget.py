"""The budgets of a call (PRODUCT §6: never exceeded) and the amounts of an award as saved:
what saving and promoting share. See the package for how the lock and the check work."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.formatting import amount as format_amount
from proposals.calls.models import Call, CallResource
from proposals.decisions.enums import AWARDING
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.selectors.amounts import awarded_totals

ZERO = Decimal(0)
CENTS = Decimal("0.01")


class OverBudget(ValidationError):
    """The awards of one resource add up to more than its budget in the call."""

    def __init__(self, *, offer: CallResource, total: Decimal):
        self.offer = offer
        self.total = total
        self.budget = offer.budget
        unit = offer.resource.unit
        super().__init__(
            _(
                "%(resource)s: the awards add up to %(total)s %(unit)s, more than the budget "
                "of %(budget)s %(unit)s. Nothing was saved."
            )
            % {
                "resource": offer.resource.name,
                "total": format_amount(total),
                "budget": format_amount(offer.budget),
                "unit": unit,
            },
            code="over_budget",
        )


# --- The budget lock and check ---------------------------------------------------------------


def lock_budgets(call: Call) -> list[CallResource]:
    """Lock the call's resources, always in the same order (no deadlock between two savers),
    and return them. Every write that adds to a budget takes this lock first."""
    return list(
        CallResource.objects.select_for_update(of=("self",))
        .filter(call_id=call.pk)
        .select_related("resource")
        .order_by("pk")
    )


def check_budgets(call: Call, offers: Sequence[CallResource]) -> None:
    """Raise OverBudget for the first resource whose counted awards exceed its budget. Run
    after the writes and before the commit, under ``lock_budgets``."""
    totals = awarded_totals(call=call)
    for offer in offers:
        total = totals.get(offer.pk, ZERO)
        if total > offer.budget:
            raise OverBudget(offer=offer, total=total)


def decisions_published(call: Call) -> bool:
    """Read from the database, not from the caller's object: another transaction may just
    have published."""
    return Call.objects.filter(pk=call.pk, decisions_published_at__isnull=False).exists()


# --- Amounts -----------------------------------------------------------------------------------


def clean_amounts(
    *,
    outcome: str,
    amounts: Mapping[int, Decimal | None],
    offers: Mapping[int, CallResource],
    defaults: Mapping[int, Decimal],
    label: str,
) -> dict[int, Decimal]:
    """The amounts to save for ``outcome``, by call resource id, positive ones only; raises
    ValidationError naming the proposal (``label``) and the resource when one is wrong."""
    if outcome not in AWARDING:
        return {}
    unknown = [key for key in amounts if key not in offers]
    if unknown:
        raise ValidationError(
            _("%(proposal)s: an amount is given for a resource this call does not offer.")
            % {"proposal": label},
            code="unknown_resource",
        )
    result: dict[int, Decimal] = {}
    for offer_id, offer in offers.items():
        value = amounts.get(offer_id)
        value = defaults.get(offer_id, ZERO) if value is None else Decimal(value)
        if value < 0:
            raise ValidationError(
                _("%(proposal)s: the amount of %(resource)s cannot be negative.")
                % {"proposal": label, "resource": offer.resource.name},
                code="negative",
            )
        if value > offer.max_request:
            raise ValidationError(
                _(
                    "%(proposal)s: at most %(max)s %(unit)s of %(resource)s can be awarded to "
                    "one proposal."
                )
                % {
                    "proposal": label,
                    "max": format_amount(offer.max_request),
                    "unit": offer.resource.unit,
                    "resource": offer.resource.name,
                },
                code="above_maximum",
            )
        if value > 0:
            result[offer_id] = value
    if not result:
        raise ValidationError(
            _("%(proposal)s: an award needs an amount of at least one resource.")
            % {"proposal": label},
            code="empty_award",
        )
    return result


def audit_state(
    decision: Decision | None, lines: Mapping[int, Decimal], offers: Mapping[int, CallResource]
) -> dict[str, Any]:
    """A decision as the audit trail records it (amounts by resource code, as strings)."""
    if decision is None:
        return {}
    return {
        "outcome": decision.outcome,
        "amounts": {
            offers[key].resource.code: str(Decimal(value).quantize(CENTS))
            for key, value in sorted(lines.items())
        },
        "message": decision.message,
    }


def write_award_lines(decision: Decision, amounts: Mapping[int, Decimal]) -> None:
    decision.lines.all().delete()
    AwardLine.objects.bulk_create(
        [
            AwardLine(decision=decision, call_resource_id=offer_id, amount=value)
            for offer_id, value in sorted(amounts.items())
        ]
    )
