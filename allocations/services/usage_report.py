"""The report of a usage import (``allocations.services.usage_import``): what was charged,
what was not and why, line by line, and the hours' arithmetic it shares with the writer."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any

from allocations.models import (
    UsageFile,
)

SECONDS_PER_HOUR = 3600
LEDGER_PLACES = 10_000  # the ledger keeps hours to four places
NOON = time(12)


# Kinds of line that are not charged, as the report counts them.
MALFORMED = "malformed line"
UNPARSABLE = "unparsable field"
UNKNOWN_ACCOUNT = "unknown account"
NO_RESOURCE = "no resource for cluster and partition"
NOT_AWARDED = "resource not awarded to the account"
NOT_CHARGED = "resource not charged from jobs"
NOT_ENDED = "not ended"
OTHER_CLUSTER = "other cluster"
# Kinds that are expected in any sacct file and are no problem.
BENIGN = {NOT_ENDED, NOT_CHARGED}


class Outcome:
    CLEAN = UsageFile.Outcome.CLEAN
    PROBLEMS = UsageFile.Outcome.PROBLEMS
    REFUSED = UsageFile.Outcome.REFUSED
    ALREADY = "already imported"


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def _hours(charge: int) -> Decimal:
    """A charge (ten-thousandths of unit-seconds) in hours to four places, rounded half up."""
    return Decimal(_ledger_units(charge)).scaleb(-4)


def _ledger_units(charge: int) -> int:
    """A charge in ten-thousandths of an hour, rounded half away from zero."""
    half = SECONDS_PER_HOUR // 2
    if charge >= 0:
        return (charge + half) // SECONDS_PER_HOUR
    return -((-charge + half) // SECONDS_PER_HOUR)


@dataclass
class ImportReport:
    cluster: str
    source: str = ""
    dry_run: bool = False
    refused: bool = False
    already_imported: bool = False
    lines_read: int = 0
    charged: int = 0  # jobs recorded for the first time
    corrected: int = 0  # jobs whose record changed
    duplicates: int = 0  # lines that changed nothing
    skipped: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    # (account, Slurm user) → jobs charged without a member
    unknown_users: Counter = field(default_factory=Counter)
    # account → [lines, charge not charged]
    unknown_accounts: dict[str, list[int]] = field(default_factory=dict)
    # (account, resource code, unit) → charge written by this import (ten-thousandths of s)
    charges: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def problem(self, line: int, field_name: str, message: str) -> None:
        self.problems.append(Problem(line, field_name, message))

    @property
    def outcome(self) -> str:
        if self.already_imported:
            return Outcome.ALREADY
        if self.refused:
            return Outcome.REFUSED
        if self.problems or self.unknown_users:
            return Outcome.PROBLEMS
        return Outcome.CLEAN

    def warnings(self) -> list[str]:
        return [
            f"warning: User: unknown user {user!r} on {account}: {jobs} "
            f"job{'s' if jobs != 1 else ''} charged without a member"
            for (account, user), jobs in sorted(self.unknown_users.items())
        ]

    def hours(self) -> dict[tuple[str, str, str], Decimal]:
        return {key: _hours(charge) for key, charge in sorted(self.charges.items())}

    def lines(self, *, first: int | None = None) -> list[str]:
        """The report as text. With ``first``, only that many problems (then how many more)."""
        title = f"Usage import from cluster {self.cluster}"
        if self.source:
            title += f" ({self.source})"
        out = [title + (" (dry run)" if self.dry_run else "")]
        if self.already_imported:
            out.append("This content was imported before: nothing changed.")
            return out
        shown = self.problems if first is None else self.problems[:first]
        out += [str(p) for p in shown]
        if len(shown) < len(self.problems):
            out.append(
                f"… and {len(self.problems) - len(shown)} more problems "
                "(all in --json and in the usage file's report)"
            )
        out += self.warnings()
        if self.refused:
            out.append("Not imported.")
            return out
        out.append(f"Lines read: {self.lines_read}")
        out.append(f"Jobs charged: {self.charged}")
        out.append(f"Jobs corrected: {self.corrected}")
        out.append(f"Duplicates: {self.duplicates}")
        out.append(f"Skipped: {sum(self.skipped.values())}")
        out += [f"  {reason}: {count}" for reason, count in sorted(self.skipped.items())]
        if self.unknown_accounts:
            out.append("Unknown accounts (lines, hours not charged):")
            for name, (lines, charge) in sorted(self.unknown_accounts.items()):
                out.append(f"  {name}: {lines} lines, {_hours(charge)} hours")
        out.append("Hours per allocation:")
        for (account, code, unit), hours in self.hours().items():
            out.append(f"  {account} {code}: {hours} {unit}")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        """The whole report, for ``--json`` and the usage file's record."""
        return {
            "cluster": self.cluster,
            "source": self.source,
            "outcome": self.outcome,
            "dry_run": self.dry_run,
            "lines_read": self.lines_read,
            "jobs_charged": self.charged,
            "jobs_corrected": self.corrected,
            "duplicates": self.duplicates,
            "skipped": dict(sorted(self.skipped.items())),
            "problems": [
                {"line": p.line, "field": p.field, "message": p.message} for p in self.problems
            ],
            "unknown_users": [
                {"account": account, "user": user, "jobs": jobs}
                for (account, user), jobs in sorted(self.unknown_users.items())
            ],
            "unknown_accounts": [
                {"account": name, "lines": lines, "hours": str(_hours(charge))}
                for name, (lines, charge) in sorted(self.unknown_accounts.items())
            ],
            "hours": [
                {"account": account, "resource": code, "unit": unit, "hours": str(hours)}
                for (account, code, unit), hours in self.hours().items()
            ],
        }
