"""The reviewer-assignment solver (proposals/assignment.py): costs, constraints, optimality
against an exhaustive search, and the report of proposals left short.

``brute_force`` here is the reference the property tests compare against too.
"""

import itertools
import random
from collections import Counter
from collections.abc import Collection, Sequence

import pytest

from proposals.review.solver import (
    FIELD_MISMATCH_COST,
    KEYWORD_MISMATCH_COST,
    MAX_PAIR_COST,
    Pair,
    ProposalNeed,
    ReviewerOffer,
    Shortfall,
    ShortReason,
    cost_matrix,
    pair_cost,
    solve,
)


def brute_force(
    proposals: Sequence[ProposalNeed],
    reviewers: Sequence[ReviewerOffer],
    *,
    blocked: Collection[tuple[int, int]] = (),
    fixed: Collection[tuple[int, int]] = (),
) -> tuple[int, int]:
    """(most reviews that can be staffed, least total cost among assignments staffing that
    many), by enumerating every valid assignment: for each proposal every set of allowed
    reviewers no larger than what it still needs, kept when no reviewer goes over their load.
    """
    fixed = set(fixed)
    blocked = set(blocked)
    load_left = {
        r.id: max(r.capacity - sum(1 for _, rid in fixed if rid == r.id), 0) for r in reviewers
    }
    choices = []
    for p in proposals:
        need = max(p.needed - sum(1 for pid, _ in fixed if pid == p.id), 0)
        allowed = [
            r for r in reviewers if (p.id, r.id) not in blocked and (p.id, r.id) not in fixed
        ]
        options = [
            combo
            for size in range(min(need, len(allowed)) + 1)
            for combo in itertools.combinations(allowed, size)
        ]
        choices.append([(p, combo) for combo in options])
    best = (0, 0)
    for assignment in itertools.product(*choices):
        used = Counter(r.id for _, combo in assignment for r in combo)
        if any(count > load_left[rid] for rid, count in used.items()):
            continue
        count = sum(used.values())
        cost = sum(pair_cost(p, r) for p, combo in assignment for r in combo)
        if count > best[0] or (count == best[0] and cost < best[1]):
            best = (count, cost)
    return best


def proposal(pid: int, field: str = "PE6", keywords=(), needed: int = 1) -> ProposalNeed:
    return ProposalNeed(id=pid, field=field, keywords=list(keywords), needed=needed)


def reviewer(rid: int, expertise=("PE6",), keywords=(), capacity: int = 8) -> ReviewerOffer:
    return ReviewerOffer(
        id=rid, expertise=list(expertise), keywords=list(keywords), capacity=capacity
    )


def pairs_of(solution) -> set[tuple[int, int]]:
    return {(pair.proposal_id, pair.reviewer_id) for pair in solution.pairs}


# --- Costs ------------------------------------------------------------------------------------


def test_costs_of_field_and_keyword_matches():
    p = proposal(1, "PE6", ["Language Models", "scaling", "sparsity"])

    assert pair_cost(p, reviewer(1, ["PE6"], ["language  models", "SCALING", "sparsity"])) == 0
    # Jaccard 2/4: half the keyword cost.
    assert pair_cost(p, reviewer(2, ["PE6", "LS2"], ["scaling", "sparsity", "genomics"])) == 50
    # Jaccard 1/3: 66.67 rounds to 67.
    assert pair_cost(p, reviewer(3, ["PE6"], ["scaling"])) == 67
    assert pair_cost(p, reviewer(4, ["LS2"], ["scaling", "sparsity", "language models"])) == 1000
    assert pair_cost(p, reviewer(5, ["LS2"], [])) == MAX_PAIR_COST == 1100
    # Neither side has keywords: no overlap to speak of.
    assert pair_cost(proposal(2, "PE6"), reviewer(6, ["PE6"], [])) == KEYWORD_MISMATCH_COST
    # A proposal without a field matches nobody's field.
    assert pair_cost(proposal(3, ""), reviewer(7, [""], [])) == FIELD_MISMATCH_COST + 100


def test_the_cost_matrix_equals_the_cost_of_each_pair():
    rng = random.Random(7)
    fields = ["PE1", "PE6", "LS2", "SH3", ""]
    words = ["Alpha", "beta", "gamma ", "delta", "epsilon", "zeta", "eta", "theta"]
    proposals = [
        proposal(i, rng.choice(fields), rng.sample(words, rng.randint(0, 4))) for i in range(40)
    ]
    reviewers = [
        reviewer(
            100 + i, rng.sample(fields[:4], rng.randint(0, 2)), rng.sample(words, rng.randint(0, 5))
        )
        for i in range(15)
    ]

    cost, *_ = cost_matrix(proposals, reviewers)

    assert cost.tolist() == [[pair_cost(p, r) for r in reviewers] for p in proposals]


# --- Solutions --------------------------------------------------------------------------------


def test_each_proposal_gets_its_best_matching_reviewers():
    proposals = [
        proposal(1, "PE6", ["language models"], needed=2),
        proposal(2, "LS2", ["genomics"], needed=1),
    ]
    reviewers = [
        reviewer(10, ["PE6"], ["language models"]),
        reviewer(11, ["PE6"], []),
        reviewer(12, ["LS2"], ["genomics"]),
        reviewer(13, ["SH3"], []),
    ]

    solution = solve(proposals, reviewers)

    assert solution.pairs == [
        Pair(1, 10, cost=0, field_match=True, keyword_overlap=1.0),
        Pair(1, 11, cost=100, field_match=True, keyword_overlap=0.0),
        Pair(2, 12, cost=0, field_match=True, keyword_overlap=1.0),
    ]
    assert solution.shortfalls == []
    assert solution.total_cost == 100
    assert solution.field_match_share == 1.0


def test_the_optimum_is_global_not_greedy():
    proposals = [proposal(1, "PE6", ["a"]), proposal(2, "PE6", ["b"])]
    reviewers = [
        reviewer(10, ["PE6"], ["a", "b"], capacity=1),
        reviewer(11, ["LS2"], ["a"], capacity=1),
    ]
    assert [[pair_cost(p, r) for r in reviewers] for p in proposals] == [[50, 1000], [50, 1100]]
    # Greedy, best pair first, takes 1×10 (50) and leaves 2×11 (1100): 1150 in all.

    solution = solve(proposals, reviewers)

    assert pairs_of(solution) == {(1, 11), (2, 10)}
    assert solution.total_cost == 1050
    assert brute_force(proposals, reviewers) == (2, 1050)


def test_blocked_pairs_are_never_suggested_even_when_they_match_best():
    proposals = [proposal(1, "PE6", ["x"])]
    reviewers = [reviewer(10, ["PE6"], ["x"]), reviewer(11, ["LS2"], [])]

    solution = solve(proposals, reviewers, blocked={(1, 10)})

    assert pairs_of(solution) == {(1, 11)}
    assert solution.pairs[0].field_match is False
    assert solution.field_match_share == 0.0


def test_fixed_pairs_count_toward_the_need_and_the_load():
    proposals = [proposal(1, needed=2), proposal(2, needed=2), proposal(3, needed=1)]
    reviewers = [reviewer(10, capacity=2), reviewer(11, capacity=3), reviewer(12, capacity=1)]
    # Proposal 1 has 10 already; 10 also reviews a proposal outside the list (load only).
    fixed = {(1, 10), (99, 10)}

    solution = solve(proposals, reviewers, fixed=fixed)

    by_reviewer = Counter(pair.reviewer_id for pair in solution.pairs)
    by_proposal = Counter(pair.proposal_id for pair in solution.pairs)
    assert by_reviewer[10] == 0  # 2 of 2 used by the fixed pairs
    assert by_proposal == {1: 1, 2: 2, 3: 1}
    assert (1, 10) not in pairs_of(solution)
    assert solution.shortfalls == []


def test_a_proposal_with_enough_fixed_reviewers_gets_no_more():
    solution = solve(
        [proposal(1, needed=1)], [reviewer(10), reviewer(11)], fixed={(1, 10), (1, 11)}
    )

    assert solution.pairs == []
    assert solution.shortfalls == []


def test_nothing_to_do():
    assert solve([], []).pairs == []
    assert solve([proposal(1, needed=0)], [reviewer(10)]).pairs == []
    assert solve([], [reviewer(10)]).field_match_share is None


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        solve([proposal(1), proposal(1)], [reviewer(10)])


# --- Infeasible instances ----------------------------------------------------------------------


def test_short_proposals_are_reported_with_the_reason():
    proposals = [
        # 3 of the 5 reviewers are in conflict and 13 is full: one eligible reviewer (14)
        # with load left, for two places.
        proposal(1, needed=2),
        # Everyone is blocked.
        proposal(2, needed=1),
        # Only 14 is eligible, and matches best: it gets 14's single place.
        proposal(3, keywords=["x"], needed=1),
    ]
    reviewers = [
        reviewer(10),
        reviewer(11),
        reviewer(12),
        reviewer(13, capacity=1),
        reviewer(14, keywords=["x"], capacity=1),
    ]
    blocked = {(1, 10), (1, 11), (1, 12)} | {(2, r) for r in range(10, 15)}
    blocked |= {(3, 10), (3, 11), (3, 12), (3, 13)}
    fixed = {(99, 13)}

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    assert pairs_of(solution) == {(3, 14)}
    assert solution.shortfalls == [
        Shortfall(
            1,
            needed=2,
            suggested=0,
            eligible=2,
            excluded=3,
            with_capacity=1,
            reason=ShortReason.NOT_ENOUGH_CAPACITY,
        ),
        Shortfall(
            2,
            needed=1,
            suggested=0,
            eligible=0,
            excluded=5,
            with_capacity=0,
            reason=ShortReason.NOT_ENOUGH_ELIGIBLE,
        ),
    ]
    assert [s.missing for s in solution.shortfalls] == [2, 1]


def test_an_infeasible_call_still_staffs_as_many_as_possible():
    # Six reviews needed, four places in the pool.
    proposals = [proposal(i, needed=2) for i in (1, 2, 3)]
    reviewers = [reviewer(10, capacity=2), reviewer(11, capacity=2)]

    solution = solve(proposals, reviewers)

    assert len(solution.pairs) == 4
    assert sum(s.missing for s in solution.shortfalls) == 2
    assert {s.reason for s in solution.shortfalls} == {ShortReason.CAPACITY_TAKEN}
    assert brute_force(proposals, reviewers) == (4, 400)
    assert solution.total_cost == 400


@pytest.mark.parametrize("seed", range(30))
def test_optimal_against_brute_force_on_random_small_instances(seed):
    rng = random.Random(seed)
    fields, words = ["PE1", "PE6", "LS2"], ["a", "b", "c", "d"]
    proposals = [
        proposal(i, rng.choice(fields), rng.sample(words, rng.randint(0, 3)), rng.randint(0, 3))
        for i in range(rng.randint(1, 4))
    ]
    reviewers = [
        reviewer(
            10 + i,
            rng.sample(fields, rng.randint(0, 2)),
            rng.sample(words, rng.randint(0, 3)),
            rng.randint(0, 3),
        )
        for i in range(rng.randint(1, 4))
    ]
    pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    blocked = {pair for pair in pairs if rng.random() < 0.2}
    fixed = {pair for pair in pairs if pair not in blocked and rng.random() < 0.15}

    solution = solve(proposals, reviewers, blocked=blocked, fixed=fixed)

    assert (len(solution.pairs), solution.total_cost) == brute_force(
        proposals, reviewers, blocked=blocked, fixed=fixed
    )
    assert solution.total_cost == sum(pair.cost for pair in solution.pairs)
