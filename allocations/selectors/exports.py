"""Allocations and usage as tables to download (PRODUCT §9), written by ``accounts.exports``.

- allocations: call managers (the view checks), with the list page's filters; one row per
  allocation and resource: awarded, used, forfeited, left, and the share of what was due so
  far that was used;
- usage: an allocation's ledger, for whoever reads the allocation (its PI and members, the
  managers): every entry with its day, kind, resource, amount and member.
"""

from django.utils.translation import gettext as _

from accounts.exports import Table
from allocations.models import Allocation
from allocations.selectors.ledger import ledger_entries
from allocations.selectors.manage import AllocationRow


def allocations_table(rows: list[AllocationRow]) -> Table:
    """The rows of the managers' list (every page of it) as a table."""
    columns = [
        _("Account"),
        _("Call"),
        _("Proposal"),
        _("Principal investigator"),
        _("Period"),
        _("Start"),
        _("End"),
        _("Resource"),
        _("Unit"),
        _("Awarded"),
        _("Used"),
        _("Forfeited"),
        _("Left"),
        _("Used of what was due so far (%)"),
    ]
    table_rows = [
        [
            row.allocation.account,
            row.allocation.proposal.call.code,
            row.allocation.proposal.reference,
            row.allocation.pi.display_name,
            row.period_label,
            row.allocation.start,
            row.allocation.end,
            line.resource.name,
            line.resource.unit,
            line.ledger.totals.awarded,
            line.ledger.totals.used,
            line.ledger.totals.forfeited,
            line.ledger.totals.balance,
            line.use_percent,
        ]
        for row in rows
        for line in row.lines
    ]
    return Table(name="allocations", columns=columns, rows=table_rows)


def usage_table(*, allocation: Allocation) -> Table:
    """Every ledger entry of ``allocation``, oldest first."""
    columns = [
        _("When"),
        _("Kind"),
        _("Resource"),
        _("Unit"),
        _("Amount"),
        _("Member"),
    ]
    rows = (
        [
            entry.occurred_at,
            entry.get_kind_display(),
            entry.resource.name,
            entry.resource.unit,
            entry.amount,
            entry.user.display_name if entry.user else "",
        ]
        for entry in ledger_entries(allocation=allocation).iterator(chunk_size=2000)
    )
    return Table(name=f"{allocation.account} usage", columns=columns, rows=rows)
