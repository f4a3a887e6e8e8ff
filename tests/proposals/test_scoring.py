"""Scores, spread and the per-reviewer normalisation (PRODUCT §5.3), against figures worked out
by hand in the comments. Pure functions: no database."""

from decimal import Decimal

import pytest

from proposals.review.scoring import (
    Criterion,
    Scale,
    ScoredReview,
    is_spread_flagged,
    mean,
    normalised_scores,
    population_sd,
    review_score,
    review_scores,
    rounded,
    score_proposals,
    spread,
    weighted_scale,
)

D = Decimal

# The criteria of ``tests.factories.make_call``: excellence weighs 2, feasibility 1, both 0–5.
EXCELLENCE = Criterion(id=1, weight=D(2), scale_min=D(0), scale_max=D(5))
FEASIBILITY = Criterion(id=2, weight=D(1), scale_min=D(0), scale_max=D(5))
CRITERIA = [EXCELLENCE, FEASIBILITY]
SCALE = Scale(low=D(0), high=D(5))

# A small call: reviewers A (generous), B (harsh) and C (always 3) and proposals P1–P4.
# Each review as (excellence, feasibility); its score is (2 × excellence + feasibility) / 3.
A, B, C = 101, 102, 103
P1, P2, P3, P4 = 11, 12, 13, 14
REVIEWS = [
    # review id, proposal, reviewer, (excellence, feasibility)   score
    (1, P1, A, (5, 5)),  # (10 + 5) / 3 = 5
    (2, P2, A, (5, 5)),  # (10 + 5) / 3 = 5
    (3, P3, A, (4, 1)),  # (8 + 1) / 3 = 3
    (4, P4, A, (3, 3)),  # (6 + 3) / 3 = 3
    (5, P1, B, (0, 0)),  # 0
    (6, P2, B, (1, 4)),  # (2 + 4) / 3 = 2   (the plain mean would be 2.5)
    (7, P1, C, (3, 3)),  # 3
    (8, P3, C, (2, 5)),  # (4 + 5) / 3 = 3
    (9, P4, C, (4, 1)),  # (8 + 1) / 3 = 3
]


def scored_reviews() -> list[ScoredReview]:
    return [
        ScoredReview(
            review_id=review_id,
            proposal_id=proposal,
            reviewer_id=reviewer,
            score=review_score(CRITERIA, {EXCELLENCE.id: excellence, FEASIBILITY.id: feasibility}),
        )
        for review_id, proposal, reviewer, (excellence, feasibility) in REVIEWS
    ]


def test_review_score_is_the_weighted_mean_of_the_criteria():
    assert [r.score for r in scored_reviews()] == [
        D(5),
        D(5),
        D(3),
        D(3),
        D(0),
        D(2),
        D(3),
        D(3),
        D(3),
    ]
    # (2 × 4 + 1 × 3) / 3 = 11 / 3 = 3.666… → 3.67
    assert rounded(review_score(CRITERIA, {1: 4, 2: 3})) == D("3.67")


def test_a_review_that_scored_only_some_criteria_counts_those_with_their_weights():
    assert review_score(CRITERIA, {2: 4}) == D(4)
    assert review_score(CRITERIA, {}) is None


def test_the_worked_example_proposal_scores_spreads_and_normalised_scores():
    # Every review score: 5, 5, 3, 3, 0, 2, 3, 3, 3 → sum 27, global mean 27 / 9 = 3.
    # Deviations from 3: 2, 2, 0, 0, −3, −1, 0, 0, 0 → squares 4 + 4 + 9 + 1 = 18;
    # population variance 18 / 9 = 2; global sd = √2 = 1.414213…
    #
    # A: 5, 5, 3, 3 → mean 4, deviations ±1 → sd 1 → z = +1, +1, −1, −1
    # B: 0, 2       → mean 1, deviations ±1 → sd 1 → z = −1, +1
    # C: 3, 3, 3    → sd 0 → z = 0 for each
    # normalised = 3 + z × √2: z = +1 → 4.414213…, z = −1 → 1.585786…, z = 0 → 3
    normalised = normalised_scores(scored_reviews(), SCALE)
    assert {review_id: rounded(value) for review_id, value in normalised.items()} == {
        1: D("4.41"),
        2: D("4.41"),
        3: D("1.59"),
        4: D("1.59"),
        5: D("1.59"),
        6: D("4.41"),
        7: D("3.00"),
        8: D("3.00"),
        9: D("3.00"),
    }

    figures = score_proposals(scored_reviews(), SCALE)
    shown = {
        proposal: (
            figure.reviews,
            rounded(figure.score),
            rounded(figure.normalised),
            rounded(figure.spread),
            figure.spread_flagged,
        )
        for proposal, figure in figures.items()
    }
    # The flag is raised above a third of the 0–5 scale: 5 / 3 = 1.67.
    assert shown == {
        # P1: (5 + 0 + 3) / 3 = 2.666… → 2.67; spread 5 − 0 = 5 > 1.67 → flagged;
        #     normalised (4.414… + 1.585… + 3) / 3 = 9 / 3 = 3
        P1: (3, D("2.67"), D("3.00"), D("5.00"), True),
        # P2: (5 + 2) / 2 = 3.5; spread 3 > 1.67 → flagged; normalised (4.414… + 4.414…) / 2
        P2: (2, D("3.50"), D("4.41"), D("3.00"), True),
        # P3: (3 + 3) / 2 = 3; spread 0; normalised (1.585… + 3) / 2 = 2.292… → 2.29
        P3: (2, D("3.00"), D("2.29"), D("0.00"), False),
        # P4: the same reviewers and scores as P3
        P4: (2, D("3.00"), D("2.29"), D("0.00"), False),
    }


def test_a_reviewer_with_one_review_gets_the_global_mean():
    reviews = [
        ScoredReview(review_id=1, proposal_id=P1, reviewer_id=A, score=D(5)),
        ScoredReview(review_id=2, proposal_id=P2, reviewer_id=A, score=D(1)),
        ScoredReview(review_id=3, proposal_id=P1, reviewer_id=B, score=D(0)),
    ]
    # Global mean (5 + 1 + 0) / 3 = 2. B has one review: z = 0 → 2.
    # Global sd: deviations 3, −1, −2 → (9 + 1 + 4) / 3 = 14 / 3 → √4.666… = 2.160246…
    # A: mean 3, sd 2 → z = ±1 → 2 ± 2.160… = 4.160… and −0.160…, which is clipped to 0.
    assert {k: rounded(v) for k, v in normalised_scores(reviews, SCALE).items()} == {
        1: D("4.16"),
        2: D("0.00"),
        3: D("2.00"),
    }


def test_normalised_scores_are_clipped_to_the_scale_at_both_ends():
    reviews = [
        ScoredReview(review_id=1, proposal_id=P1, reviewer_id=A, score=D(5)),
        ScoredReview(review_id=2, proposal_id=P2, reviewer_id=A, score=D(0)),
        ScoredReview(review_id=3, proposal_id=P3, reviewer_id=A, score=D(0)),
        ScoredReview(review_id=4, proposal_id=P4, reviewer_id=A, score=D(0)),
        ScoredReview(review_id=5, proposal_id=P1, reviewer_id=B, score=D(0)),
        ScoredReview(review_id=6, proposal_id=P2, reviewer_id=B, score=D(5)),
    ]
    # Global: 5, 0, 0, 0, 0, 5 → mean 10 / 6 = 1.666…; squares of deviations
    # 2 × (10/3)² + 4 × (5/3)² = 200/9 + 100/9 = 300/9; / 6 = 50/9 → sd = 2.357022…
    # A: mean 1.25, sd √((3.75² + 3 × 1.25²) / 4) = √4.6875 = 2.165063…
    #    the 5: z = 3.75 / 2.165… = 1.732… → 1.666… + 4.082… = 5.749… → clipped to 5
    #    a 0:   z = −1.25 / 2.165… = −0.577… → 1.666… − 1.360… = 0.306… → 0.31
    # B: mean 2.5, sd 2.5 → z = ∓1 → 1.666… ∓ 2.357… = −0.690… (clipped to 0) and 4.023…
    assert {k: rounded(v) for k, v in normalised_scores(reviews, SCALE).items()} == {
        1: D("5.00"),
        2: D("0.31"),
        3: D("0.31"),
        4: D("0.31"),
        5: D("0.00"),
        6: D("4.02"),
    }


def test_criteria_on_different_scales_are_placed_on_the_weighted_scale():
    excellence = Criterion(id=1, weight=D(2), scale_min=D(0), scale_max=D(5))
    impact = Criterion(id=2, weight=D(1), scale_min=D(1), scale_max=D(10))
    criteria = [excellence, impact]
    # Weighted scale: low (2 × 0 + 1 × 1) / 3 = 1/3, high (2 × 5 + 1 × 10) / 3 = 20/3.
    scale = weighted_scale(criteria)
    assert (rounded(scale.low), rounded(scale.high)) == (D("0.33"), D("6.67"))
    # Width 19/3; the spread flag is raised above a third of it: 19/9 = 2.11.
    assert rounded(scale.spread_limit) == D("2.11")
    # Excellence 4 of 0–5 → 0.8 of its range; impact 7 of 1–10 → 6/9 = 0.666…
    # weighted: (2 × 0.8 + 0.666…) / 3 = 0.755…; on the weighted scale:
    # 1/3 + 0.755… × 19/3 = 0.333… + 4.785… = 5.118… → 5.12
    assert rounded(review_score(criteria, {1: 4, 2: 7})) == D("5.12")
    # The ends of the ranges land on the ends of the weighted scale.
    assert review_score(criteria, {1: 0, 2: 1}) == scale.low
    assert review_score(criteria, {1: 5, 2: 10}) == scale.high


def test_spread_flag_is_strictly_more_than_a_third_of_the_scale():
    assert is_spread_flagged(D(5) / 3, SCALE) is False
    assert is_spread_flagged(D("1.67"), SCALE) is True
    assert is_spread_flagged(None, SCALE) is False


def test_the_small_helpers():
    assert mean([]) is None
    assert mean([D(1), D(2)]) == D("1.5")
    assert spread([]) is None
    assert spread([D(2), D(5), D(3)]) == D(3)
    assert population_sd([D(4)]) == D(0)
    assert population_sd([D(1), D(3)]) == D(1)
    assert rounded(None) is None
    assert rounded(D("3.665")) == D("3.67")
    assert rounded(D("2.004")) == D("2.00")


def test_no_reviews_no_figures():
    assert normalised_scores([], SCALE) == {}
    assert score_proposals([], SCALE) == {}


def test_a_call_without_criteria_has_no_scale():
    with pytest.raises(ValueError, match="without criteria"):
        weighted_scale([])


def test_review_scores_of_many_reviews_agree_with_review_score():
    rows = [(1, 1, 4), (1, 2, 3), (2, 2, 4), (4, 1, 0), (4, 2, 5), (5, 99, 3)]
    # 1: (8 + 3) / 3 = 3.67; 2: only feasibility, 4; 4: 5 / 3 = 1.67; 5: no criterion of the
    # call (99), left out.
    assert {k: rounded(v) for k, v in review_scores(CRITERIA, rows).items()} == {
        1: D("3.67"),
        2: D("4.00"),
        4: D("1.67"),
    }
    mixed = [
        Criterion(id=1, weight=D(2), scale_min=D(0), scale_max=D(5)),
        Criterion(id=2, weight=D(1), scale_min=D(1), scale_max=D(10)),
    ]
    assert review_scores(mixed, [(7, 1, 4), (7, 2, 7)]) == {7: review_score(mixed, {1: 4, 2: 7})}
    assert review_scores(mixed, [(8, 2, 10)]) == {8: review_score(mixed, {2: 10})}
    assert review_scores([], rows) == {}
