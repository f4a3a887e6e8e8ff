"""Decisions and awards (PRODUCT §6): the committee's decisions within the budget, the
suggestion, and the proposals' half of publishing, answering an award and promoting from the
waitlist.

``allocations.services.publishing`` holds the other half of the last three (allocations, the ledger,
emails) and calls these inside its own transaction: ``proposals`` never imports
``allocations``. These are the services that move a proposal to a decided status
(``ProposalStatus.AWARDED`` … ``REJECTED``), besides the lifecycle services of
``proposals.submission.services.lifecycle``.

- ``budget``: the lock and the check of the budgets, and the amounts of an award as saved;
- ``saving``: the committee's decisions (``decisions_save``) and the suggestion;
- ``publishing``: the proposals' half of publishing, answering and promoting.

The budget (PRODUCT §6: never exceeded, even when two managers save at the same moment): every
write that can add to a budget first locks the call's ``CallResource`` rows, in primary-key
order (``lock_budgets``), then writes, then adds up the call's award lines per resource and
raises ``OverBudget`` when one is over (``check_budgets``), which rolls the whole transaction
back. Two saves at once take turns at the lock, and the second one's sum includes the first's
awards. An award its PI declined counts as nothing (``counted_award_lines``).

Refusals someone can act on are ``ValidationError``; acting in the wrong role is
``PermissionDenied``.
"""
