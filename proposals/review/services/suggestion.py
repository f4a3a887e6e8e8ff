"""The reviewer assignment's suggestion (PRODUCT §5.1): what the solver proposes for the whole
call, with the problems a manager should know of. It detects conflicts of interest first, and
assigns nothing: no review is written until a manager confirms it through
``assignment.assignment_apply``.

A declined or overdue assignment is refilled by suggesting again: only active reviews (invited,
accepted, submitted) are kept as fixed, and a reviewer who declined a proposal, or whom a
manager removed from it, is never suggested for it again.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from proposals.calls.models import Call
from proposals.review import solver
from proposals.review.selectors.assignment import (
    AssignmentInputs,
    assignment_inputs,
)
from proposals.review.services.conflict_detection import conflicts_refresh
from proposals.submission.models import Proposal


@dataclass(frozen=True)
class SuggestedReview:
    """One pair of the suggestion, with how well the reviewer matches the proposal."""

    proposal: Proposal
    reviewer: User
    field_match: bool
    keyword_overlap: float

    @property
    def keyword_percent(self) -> int:
        return round(self.keyword_overlap * 100)

    @property
    def nothing_in_common(self) -> bool:
        """Neither the proposal's field nor any keyword in the reviewer's expertise: the
        solver found nobody better, and the manager should look (issue 14, point 8)."""
        return not self.field_match and self.keyword_overlap == 0

    @property
    def key(self) -> str:
        """The pair as the preview's form names it: "proposal_id:reviewer_id"."""
        return f"{self.proposal.pk}:{self.reviewer.pk}"


@dataclass(frozen=True)
class Problem:
    """A proposal the suggestion leaves short, and why.

    ``conflicts``: reviewers of the pool excluded by a conflict of interest; ``declined``:
    reviewers of the pool who declined it or were removed from it (and are not in conflict);
    ``already``: its active scientific reviews, kept.
    """

    proposal: Proposal
    shortfall: solver.Shortfall
    conflicts: int
    declined: int
    already: int

    @property
    def message(self) -> str:
        s = self.shortfall
        label = f"{self.proposal.reference} {self.proposal.acronym}".strip()
        if self.already:
            head = ngettext(
                "%(proposal)s needs %(count)d more reviewer",
                "%(proposal)s needs %(count)d more reviewers",
                s.needed,
            )
        else:
            head = ngettext(
                "%(proposal)s needs %(count)d reviewer",
                "%(proposal)s needs %(count)d reviewers",
                s.needed,
            )
        head %= {"proposal": label, "count": s.needed}
        if s.reason == solver.ShortReason.NOT_ENOUGH_ELIGIBLE:
            body = (
                ngettext(
                    "only %(count)d reviewer of the pool is eligible",
                    "only %(count)d reviewers of the pool are eligible",
                    s.eligible,
                )
                if s.eligible
                else _("no reviewer of the pool is eligible")
            ) % {"count": s.eligible}
        elif s.reason == solver.ShortReason.NOT_ENOUGH_CAPACITY:
            body = (
                ngettext(
                    "only %(count)d eligible reviewer has capacity left",
                    "only %(count)d eligible reviewers have capacity left",
                    s.with_capacity,
                )
                if s.with_capacity
                else _("no eligible reviewer has capacity left")
            ) % {"count": s.with_capacity}
        else:
            body = ngettext(
                "%(count)d eligible reviewer has capacity left, but other proposals need it "
                "too: the pool cannot staff every proposal",
                "%(count)d eligible reviewers have capacity left, but other proposals need it "
                "too: the pool cannot staff every proposal",
                s.with_capacity,
            ) % {"count": s.with_capacity}
        reasons = []
        if self.conflicts:
            reasons.append(
                ngettext(
                    "%(count)d excluded by conflicts",
                    "%(count)d excluded by conflicts",
                    self.conflicts,
                )
                % {"count": self.conflicts}
            )
        if self.declined:
            reasons.append(
                ngettext(
                    "%(count)d declined or removed earlier",
                    "%(count)d declined or removed earlier",
                    self.declined,
                )
                % {"count": self.declined}
            )
        tail = f" ({', '.join(reasons)})" if reasons else ""
        return _("%(head)s; %(body)s%(tail)s.") % {"head": head, "body": body, "tail": tail}


@dataclass(frozen=True)
class Suggestion:
    """The suggested reviews of a whole call, the proposals left short, and figures.

    ``still_needed``: scientific reviewers missing before the suggestion, over the call.
    """

    call: Call
    pairs: list[SuggestedReview]
    problems: list[Problem]
    proposals: int
    still_needed: int

    @property
    def unmet(self) -> int:
        """Reviewers still missing after the suggestion."""
        return sum(problem.shortfall.missing for problem in self.problems)

    @property
    def field_match_share(self) -> float | None:
        """The share of suggested pairs whose reviewer works in the proposal's field."""
        if not self.pairs:
            return None
        return sum(pair.field_match for pair in self.pairs) / len(self.pairs)

    @property
    def field_match_percent(self) -> int | None:
        share = self.field_match_share
        return None if share is None else round(share * 100)

    @property
    def mean_keyword_percent(self) -> int | None:
        """The mean keyword overlap (Jaccard) of the suggested pairs, in percent."""
        if not self.pairs:
            return None
        return round(100 * sum(p.keyword_overlap for p in self.pairs) / len(self.pairs))

    @property
    def nothing_in_common(self) -> int:
        """How many suggested pairs share neither field nor keyword."""
        return sum(pair.nothing_in_common for pair in self.pairs)

    def by_proposal(self) -> list[tuple[Proposal, list[SuggestedReview]]]:
        """The suggested pairs grouped by proposal, in reference order."""
        groups: dict[int, tuple[Proposal, list[SuggestedReview]]] = {}
        for pair in self.pairs:
            groups.setdefault(pair.proposal.pk, (pair.proposal, []))[1].append(pair)
        return list(groups.values())

    def signed_pairs(self) -> list[tuple[int, int]]:
        """(proposal_id, reviewer_id) of every suggested pair, what ``assignment_apply`` takes."""
        return [(pair.proposal.pk, pair.reviewer.pk) for pair in self.pairs]


def solver_inputs(
    *, call: Call, inputs: AssignmentInputs
) -> tuple[list[solver.ProposalNeed], list[solver.ReviewerOffer]]:
    """The solver's view of the call: proposals with their need, reviewers with capacity."""
    proposals = [
        solver.ProposalNeed(
            id=p.pk, field=p.field, keywords=p.keywords or [], needed=call.reviewers_per_proposal
        )
        for p in inputs.proposals
    ]
    reviewers = [
        solver.ReviewerOffer(
            id=m.user.pk,
            expertise=m.user.expertise or [],
            keywords=m.user.keywords or [],
            capacity=m.capacity,
        )
        for m in inputs.pool
    ]
    return proposals, reviewers


def assignment_suggest(*, call: Call, by: User | None = None) -> Suggestion:
    """The optimal scientific reviewers for every submitted or under-review proposal of
    ``call`` that still needs some (PRODUCT §5.1), with the proposals left short and why.

    Active reviews stay (they count toward each proposal's need and each reviewer's load);
    pairs in conflict (``blocked_pairs``, a detected conflict not yet decided included) and
    pairs declined or removed earlier are never suggested.

    Side effects: conflicts of interest are detected first (``conflicts_refresh``), so the
    suggestion never rests on a stale view of them (PRODUCT §5.1); no review is written until
    ``assignment_apply``.
    """
    conflicts_refresh(call=call, by=by)
    inputs = assignment_inputs(call=call)
    proposals, reviewers = solver_inputs(call=call, inputs=inputs)
    solution = solver.solve(proposals, reviewers, blocked=inputs.blocked, fixed=inputs.fixed)

    proposal_by_id = {p.pk: p for p in inputs.proposals}
    reviewer_by_id = {m.user.pk: m.user for m in inputs.pool}
    pairs = [
        SuggestedReview(
            proposal=proposal_by_id[pair.proposal_id],
            reviewer=reviewer_by_id[pair.reviewer_id],
            field_match=pair.field_match,
            keyword_overlap=pair.keyword_overlap,
        )
        for pair in solution.pairs
    ]
    fixed_per_proposal = Counter(pair[0] for pair in inputs.fixed)
    still_needed = sum(
        max(call.reviewers_per_proposal - fixed_per_proposal[p.pk], 0) for p in inputs.proposals
    )
    return Suggestion(
        call=call,
        pairs=pairs,
        problems=_problems(solution.shortfalls, inputs, proposal_by_id, fixed_per_proposal),
        proposals=len(inputs.proposals),
        still_needed=still_needed,
    )


def _problems(
    shortfalls: Iterable[solver.Shortfall],
    inputs: AssignmentInputs,
    proposal_by_id: dict[int, Proposal],
    fixed_per_proposal: Counter[int],
) -> list[Problem]:
    shortfalls = list(shortfalls)
    if not shortfalls:
        return []
    short = {s.proposal_id for s in shortfalls}
    pool = {m.user.pk for m in inputs.pool}
    conflicts: Counter[int] = Counter()
    declined: Counter[int] = Counter()
    for proposal_id, reviewer_id in inputs.conflicts:
        if proposal_id in short and reviewer_id in pool:
            conflicts[proposal_id] += 1
    for proposal_id, reviewer_id in inputs.ended - inputs.conflicts:
        if proposal_id in short and reviewer_id in pool:
            declined[proposal_id] += 1
    return [
        Problem(
            proposal=proposal_by_id[s.proposal_id],
            shortfall=s,
            conflicts=conflicts[s.proposal_id],
            declined=declined[s.proposal_id],
            already=fixed_per_proposal[s.proposal_id],
        )
        for s in shortfalls
    ]
