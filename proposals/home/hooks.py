"""What apps above ``proposals`` add to a person's home page, registered once at start-up.

The home page (PRODUCT §9) lists what waits for the signed-in person. ``proposals`` knows the
invitations, reviews, drafts, conflicts, decisions and rankings; awards to accept and final
reports due live in ``allocations``, which ``proposals`` may not import. ``allocations``
registers its part here in ``AllocationsConfig.ready``; ``proposals.home.selectors`` asks every
registered source. ``tests/proposals/test_hooks.py`` checks that it is registered.
"""

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from accounts.models import User


@dataclass(frozen=True)
class WaitingItem:
    """One thing that waits: what it is, a line of detail (call, due date, what is missing),
    the page where it is done and the link's words."""

    text: str
    detail: str
    url: str
    action: str


@dataclass(frozen=True)
class WaitingSection:
    """A kind of thing that waits (``key``: its id on the page), placed by ``order``."""

    key: str
    order: int
    heading: str
    items: list[WaitingItem] = field(default_factory=list)


# The home page's order of sections; sources from other apps use these numbers too.
ORDER_INVITATIONS = 10
ORDER_REVIEWS = 20
ORDER_DRAFTS = 30
ORDER_AWARDS = 40
ORDER_REPORTS = 50
ORDER_CONFLICTS = 60
ORDER_DECISIONS = 70
ORDER_RANKINGS = 80
ORDER_REQUESTS = 90

# A source returns the sections it knows for ``user`` at ``now``, dates in ``zone``; a
# constant number of queries whatever the number of items.
WaitingSource = Callable[[User, datetime, zoneinfo.ZoneInfo], list[WaitingSection]]

waiting_sources: list[WaitingSource] = []


def waiting_source_register(source: WaitingSource) -> None:
    if source not in waiting_sources:
        waiting_sources.append(source)
