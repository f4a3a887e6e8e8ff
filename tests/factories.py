"""Builders for objects the tests need often. People are in conftest.py (the personas)."""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from allocations.models import Resource
from proposals.calls.models import Call, CallCriterion, CallResource


def make_resource(code: str = "jupiter-booster", **fields) -> Resource:
    defaults = {
        "name": "JUPITER Booster",
        "unit": "GPU-hours",
        "slurm_cluster": "jupiter",
        "slurm_partition": "booster",
        "charge_rule": "gpu",
    }
    defaults.update(fields)
    resource, _ = Resource.objects.get_or_create(code=code, defaults=defaults)
    return resource


def reference_prefix_for(code: str) -> str:
    """The prefix matching a code: "JUPITER 2027-1" → "JUP27-1".

    A code without a year and half keeps its letters and digits, as before.
    """
    letters = re.match(r"[A-Za-z]+", code)
    cycle = re.search(r"(?<!\d)(?:\d{2})?(\d{2})-([12])(?!\d)", code)
    if letters and cycle:
        return f"{letters[0][:3].upper()}{cycle[1]}-{cycle[2]}"
    return "".join(ch for ch in code if ch.isalnum())[:10] or "CALL"


def make_call(
    code: str = "JUPITER 2027-1",
    *,
    opens_in: timedelta = timedelta(days=-10),
    closes_in: timedelta = timedelta(days=30),
    resources: list[tuple[Resource, Decimal, Decimal, Decimal]] | None = None,
    **fields,
) -> Call:
    """A call whose dates are relative to now; by default open, with one GPU resource."""
    now = timezone.now().replace(microsecond=0)
    closes_at = now + closes_in
    data = {
        "name": f"{code} call for proposals",
        "reference_prefix": reference_prefix_for(code),
        "description": "Large-scale AI and simulation projects on JUPITER.",
        "guidelines": "Describe the scientific goal, the method and why it needs this machine.",
        "time_zone": "Europe/Berlin",
        "opens_at": now + opens_in,
        "closes_at": closes_at,
        "review_due_at": closes_at + timedelta(days=40),
        "decisions_due_at": closes_at + timedelta(days=70),
        "period_start": date(closes_at.year + (closes_at.month > 4), 5, 1),
        "period_end": date(closes_at.year + (closes_at.month > 4) + 1, 4, 30),
    }
    data.update(fields)
    call = Call.objects.create(code=code, **data)
    if resources is None:
        resources = [(make_resource(), Decimal(1_000_000), Decimal(10_000), Decimal(200_000))]
    for resource, budget, minimum, maximum in resources:
        CallResource.objects.create(
            call=call, resource=resource, budget=budget, min_request=minimum, max_request=maximum
        )
    CallCriterion.objects.create(call=call, name="Scientific excellence", weight=2, position=0)
    CallCriterion.objects.create(call=call, name="Feasibility", weight=1, position=1)
    return call
