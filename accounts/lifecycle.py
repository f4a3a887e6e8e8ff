"""One table of allowed transitions per lifecycle, and the one way a state changes.

STYLE: states are ``TextChoices`` with named groups, and one transition function per
lifecycle; no state is assigned anywhere else. Each feature declares its lifecycle next to its
states (``proposals.submission.enums.PROPOSAL_LIFECYCLE`` …) and its services move rows with
``Lifecycle.move`` (one locked object) or ``Lifecycle.move_all`` (a set of rows, in one
UPDATE). ``tests/test_lifecycles.py`` checks the tables and that no other code assigns a
state field. Generic, so it lives in the lowest app.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models


class TransitionRefused(Exception):
    """A change the table does not allow. The services check what a person may do first and
    say why in words; reaching this is a bug, so it stops the transaction."""


@dataclass(frozen=True)
class Lifecycle:
    """The allowed moves of one state field: ``transitions[source]`` is the set of targets."""

    name: str
    field: str
    transitions: Mapping[str, frozenset[str]]

    def allows(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, frozenset())

    def sources_of(self, target: str) -> frozenset[str]:
        return frozenset(s for s, targets in self.transitions.items() if target in targets)

    def move(self, obj: models.Model, target: str, *, also: Iterable[str] = ()) -> None:
        """Move ``obj`` (locked by the caller) to ``target`` and save the state field with
        the fields in ``also``, which the caller has set."""
        source = getattr(obj, self.field)
        if not self.allows(source, target):
            raise TransitionRefused(f"{self.name} {obj.pk}: {source} → {target} is not allowed")
        setattr(obj, self.field, target)
        obj.save(update_fields=[self.field, *also])

    def move_from(self, queryset: models.QuerySet, source: str, target: str, **values: Any) -> int:
        """Move the rows of ``queryset`` that are in ``source`` to ``target`` in one
        conditional UPDATE (with ``values``): of two workers racing for a row, one wins, on
        every database. Returns the number of rows moved."""
        if not self.allows(source, target):
            raise TransitionRefused(f"{self.name}: {source} → {target} is not allowed")
        return queryset.filter(**{self.field: source}).update(**{self.field: target}, **values)

    def move_all(self, queryset: models.QuerySet, target: str, **values: Any) -> int:
        """Move every row of ``queryset`` (locked by the caller) to ``target`` in one UPDATE,
        with ``values``; refused, with nothing changed, when one of them may not make that
        move. Returns the number of rows moved."""
        sources = self.sources_of(target)
        refused = queryset.exclude(**{f"{self.field}__in": sources}).count()
        if refused:
            raise TransitionRefused(f"{self.name}: {refused} rows may not move to {target}")
        return queryset.update(**{self.field: target}, **values)
