"""Properties of the assignment solver on random small instances (hypothesis).

Two references that do not use a flow: the exhaustive search of ``brute_force`` (most reviews
staffed, then least cost) and the min-cut form of Hall's condition for capacitated matchings:
the most reviews that can be staffed is the minimum, over every set S of proposals, of what
the proposals outside S still need plus, for every reviewer, the smaller of their load left
and the number of proposals of S they may review.
"""

import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from proposals.review.solver import ProposalNeed, ReviewerOffer, ShortReason, solve
from tests.proposals.test_assignment_solver import brute_force

FIELDS = ["PE1", "PE6", "LS2"]
WORDS = ["graphs", "Graphs", "genomics", "climate models", "lattice QCD"]
FEW = settings(max_examples=150, deadline=None, database=None)


@st.composite
def instances(draw):
    n_p, n_r = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    words = st.lists(st.sampled_from(WORDS), max_size=3, unique=True)
    proposals = [
        ProposalNeed(
            id=i + 1,
            field=draw(st.sampled_from([*FIELDS, ""])),
            keywords=draw(words),
            needed=draw(st.integers(0, 3)),
        )
        for i in range(n_p)
    ]
    reviewers = [
        ReviewerOffer(
            id=100 + j,
            expertise=draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)),
            keywords=draw(words),
            capacity=draw(st.integers(0, 3)),
        )
        for j in range(n_r)
    ]
    pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    blocked = draw(st.sets(st.sampled_from(pairs)))
    free = [pair for pair in pairs if pair not in blocked]
    fixed = draw(st.sets(st.sampled_from(free))) if free else set()
    # A review of a proposal outside the list still weighs on the reviewer's load.
    fixed |= draw(st.sets(st.sampled_from([(99, r.id) for r in reviewers]), max_size=2))
    return proposals, reviewers, blocked, fixed


def residual(proposals, reviewers, blocked, fixed):
    """Still needed per proposal, load left per reviewer, allowed pairs."""
    need = {p.id: max(p.needed - sum(1 for pid, _ in fixed if pid == p.id), 0) for p in proposals}
    load_left = {
        r.id: max(r.capacity - sum(1 for _, rid in fixed if rid == r.id), 0) for r in reviewers
    }
    allowed = {
        (p.id, r.id)
        for p in proposals
        for r in reviewers
        if (p.id, r.id) not in blocked and (p.id, r.id) not in fixed
    }
    return need, load_left, allowed


def hall_max_staffed(proposals, reviewers, blocked, fixed) -> int:
    need, load_left, allowed = residual(proposals, reviewers, blocked, fixed)
    ids = [p.id for p in proposals]
    best = None
    for size in range(len(ids) + 1):
        for chosen in itertools.combinations(ids, size):
            outside = sum(need[pid] for pid in ids if pid not in chosen)
            inside = sum(
                min(
                    load_left[r.id],
                    sum(1 for pid in chosen if (pid, r.id) in allowed and need[pid]),
                )
                for r in reviewers
            )
            value = outside + inside
            best = value if best is None else min(best, value)
    return best


@FEW
@given(instances())
def test_no_blocked_fixed_or_duplicate_pair_and_no_one_over_their_limits(instance):
    proposals, reviewers, blocked, fixed = instance
    need, load_left, _ = residual(*instance)

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    pairs = [(pair.proposal_id, pair.reviewer_id) for pair in solution.pairs]
    assert len(pairs) == len(set(pairs))
    assert not set(pairs) & set(blocked)
    assert not set(pairs) & set(fixed)
    per_reviewer = Counter(rid for _, rid in pairs)
    per_proposal = Counter(pid for pid, _ in pairs)
    assert all(per_reviewer[r.id] <= load_left[r.id] for r in reviewers)
    assert all(per_proposal[p.id] <= need[p.id] for p in proposals)


@FEW
@given(instances())
def test_the_suggestion_staffs_the_most_reviews_at_the_least_cost(instance):
    proposals, reviewers, blocked, fixed = instance

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    staffed = len(solution.pairs)
    assert (staffed, solution.total_cost) == brute_force(
        proposals, reviewers, blocked=blocked, fixed=fixed
    )
    assert staffed == hall_max_staffed(*instance)
    assert solution.total_cost == sum(pair.cost for pair in solution.pairs)


@FEW
@given(instances())
def test_when_a_full_assignment_exists_every_proposal_gets_exactly_what_it_needs(instance):
    proposals, reviewers, blocked, fixed = instance
    need, _, _ = residual(*instance)
    feasible = hall_max_staffed(*instance) == sum(need.values())

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    per_proposal = Counter(pair.proposal_id for pair in solution.pairs)
    if feasible:
        assert solution.shortfalls == []
        assert all(per_proposal[p.id] == need[p.id] for p in proposals)
    else:
        assert solution.shortfalls != []


@FEW
@given(instances())
def test_exactly_the_short_proposals_are_reported_with_their_figures(instance):
    proposals, reviewers, blocked, fixed = instance
    need, load_left, allowed = residual(*instance)

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    per_proposal = Counter(pair.proposal_id for pair in solution.pairs)
    short = [p.id for p in proposals if per_proposal[p.id] < need[p.id]]
    assert [s.proposal_id for s in solution.shortfalls] == short
    for s in solution.shortfalls:
        eligible = [r.id for r in reviewers if (s.proposal_id, r.id) in allowed]
        with_capacity = [rid for rid in eligible if load_left[rid] > 0]
        excluded = [
            r.id
            for r in reviewers
            if (s.proposal_id, r.id) in blocked and (s.proposal_id, r.id) not in fixed
        ]
        assert (s.needed, s.suggested) == (need[s.proposal_id], per_proposal[s.proposal_id])
        assert (s.eligible, s.with_capacity, s.excluded) == (
            len(eligible),
            len(with_capacity),
            len(excluded),
        )
        assert s.missing > 0
        if len(eligible) < s.needed:
            assert s.reason == ShortReason.NOT_ENOUGH_ELIGIBLE
        elif len(with_capacity) < s.needed:
            assert s.reason == ShortReason.NOT_ENOUGH_CAPACITY
        else:
            # Enough reviewers on its own: short only because the pool cannot staff all.
            assert s.reason == ShortReason.CAPACITY_TAKEN
            assert hall_max_staffed(*instance) < sum(need.values())


@FEW
@given(instances())
def test_a_single_proposal_is_short_exactly_when_hall_says_so(instance):
    proposals, reviewers, blocked, fixed = instance
    first = proposals[0]
    need, load_left, allowed = residual([first], reviewers, blocked, fixed)
    with_capacity = sum(1 for r in reviewers if (first.id, r.id) in allowed and load_left[r.id])

    solution = solve([first], reviewers, blocked=blocked, fixed=fixed)

    assert len(solution.pairs) == min(need[first.id], with_capacity)
    assert bool(solution.shortfalls) == (with_capacity < need[first.id])
