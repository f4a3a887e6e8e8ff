"""What apps above ``proposals`` add to the statistics page, registered once at start-up.

Usage against award across allocations (PRODUCT §9) lives in ``allocations``, which
``proposals`` may not import: ``allocations`` registers ``usage_statistics`` here in
``AllocationsConfig.ready``. With nothing registered the page has no usage section.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class UnitUsage:
    """Every allocation's resources of one unit, summed: awarded, used, forfeited."""

    unit: str
    awarded: Decimal
    used: Decimal
    forfeited: Decimal

    @property
    def used_percent(self) -> Decimal | None:
        if self.awarded <= 0:
            return None
        return (self.used * 100 / self.awarded).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class UnderUser:
    """An active allocation that used less than its share of what was due so far."""

    account: str
    url: str
    pi: str
    resource: str
    used_percent: Decimal


@dataclass(frozen=True)
class UsageStatistics:
    units: list[UnitUsage]
    under_users: list[UnderUser] = field(default_factory=list)
    under_users_count: int = 0
    under_use_percent: int = 50


UsageSource = Callable[[Any], UsageStatistics]

usage_sources: list[UsageSource] = []


def usage_source_register(source: UsageSource) -> None:
    if source not in usage_sources:
        usage_sources.append(source)


def usage_statistics(call) -> UsageStatistics | None:
    """Usage against award for ``call`` (None: every call), from the registered source."""
    for source in usage_sources:
        return source(call)
    return None
