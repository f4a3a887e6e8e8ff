"""Scores of reviews and proposals, with the per-reviewer normalisation (PRODUCT §5.3).

Pure functions on plain values: no database, no Django. ``proposals.review.selectors.ranking``
reads the rows and hands them here. Scores, means and spreads are exact ``Decimal``
arithmetic (28 significant digits); the normalisation takes square roots, so it works in
floats (15 significant digits, ample for two shown decimals, and several times faster over
the 9,000 reviews of a large call) and returns ``Decimal``. ``rounded`` gives the two decimals
the pages and exports show.

- A review's score is the weighted mean of its criteria. When the call's criteria use
  different scales, each value is first placed on the call's *weighted scale* (the weighted
  mean of the lowest scores to the weighted mean of the highest), so a 1–10 criterion does
  not count twice as much as a 0–5 one.
- A proposal's score is the mean of its submitted scientific reviews' scores; its spread is
  the highest minus the lowest, flagged when it is more than a third of the scale's width.
- Normalisation: each reviewer's scores become z-scores over all their reviews in the call
  (population standard deviation; a reviewer with one review or identical scores gets z = 0),
  mapped back to the scale as ``global mean + z × global standard deviation`` over every
  review score of the call, clipped to the scale. A proposal's normalised score is the mean of
  its reviews' normalised scores.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

TWO_PLACES = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Criterion:
    """A criterion of the call: its id (as in the scores), weight and scale."""

    id: int
    weight: Decimal
    scale_min: Decimal
    scale_max: Decimal


@dataclass(frozen=True)
class Scale:
    """The range a review score lies in: ``low`` to ``high``."""

    low: Decimal
    high: Decimal

    @property
    def width(self) -> Decimal:
        return self.high - self.low

    @property
    def spread_limit(self) -> Decimal:
        """Reviewers who differ by more than this (a third of the scale) are flagged."""
        return self.width / 3

    def clip(self, value: Decimal) -> Decimal:
        return min(max(value, self.low), self.high)


class ScoredReview(NamedTuple):
    """One submitted scientific review reduced to what the statistics need (a tuple: a call
    has thousands)."""

    review_id: int
    proposal_id: int
    reviewer_id: int
    score: Decimal


class ProposalScore(NamedTuple):
    """A proposal's figures, unrounded (see ``rounded``); None when it has no scored review."""

    reviews: int
    score: Decimal | None
    normalised: Decimal | None
    spread: Decimal | None
    spread_flagged: bool


def weighted_scale(criteria: Sequence[Criterion]) -> Scale:
    """The weighted mean of the criteria's lowest and highest scores.

    With one scale for every criterion (the usual case) this is that scale.
    """
    if not criteria:
        raise ValueError("A call without criteria has no scale.")
    total = sum((c.weight for c in criteria), ZERO)
    low = sum((c.weight * c.scale_min for c in criteria), ZERO) / total
    high = sum((c.weight * c.scale_max for c in criteria), ZERO) / total
    return Scale(low=low, high=high)


def _uniform(criteria: Sequence[Criterion]) -> bool:
    first = criteria[0]
    return all(c.scale_min == first.scale_min and c.scale_max == first.scale_max for c in criteria)


def review_score(
    criteria: Sequence[Criterion], values: Mapping[int, int | Decimal]
) -> Decimal | None:
    """The weighted mean of a review's criterion values (``values``: criterion id → value).

    Only criteria the review scored count (a criterion added after the review was written is
    left out, with its weight). None when the review scored none of the criteria.
    """
    scored = [c for c in criteria if c.id in values]
    if not scored:
        return None
    total = sum((c.weight for c in scored), ZERO)
    if _uniform(criteria):
        return sum((c.weight * Decimal(values[c.id]) for c in scored), ZERO) / total
    scale = weighted_scale(criteria)
    fraction = (
        sum(
            (
                c.weight * (Decimal(values[c.id]) - c.scale_min) / (c.scale_max - c.scale_min)
                for c in scored
            ),
            ZERO,
        )
        / total
    )
    return scale.low + fraction * scale.width


def review_scores(
    criteria: Sequence[Criterion], rows: Iterable[tuple[int, int, int | Decimal]]
) -> dict[int, Decimal]:
    """``review_score`` of many reviews at once, from ``(review id, criterion id, value)``
    rows, by review id. The same arithmetic, summed row by row: a call has thousands of
    reviews, and nothing is kept per review but two running sums."""
    if not criteria:
        return {}
    by_id = {c.id: c for c in criteria}
    uniform = _uniform(criteria)
    weighted: dict[int, Decimal] = {}
    weights: dict[int, Decimal] = {}
    for review_id, criterion_id, value in rows:
        criterion = by_id.get(criterion_id)
        if criterion is None:
            continue
        if uniform:
            part = criterion.weight * value
        else:
            part = (
                criterion.weight
                * (Decimal(value) - criterion.scale_min)
                / (criterion.scale_max - criterion.scale_min)
            )
        weighted[review_id] = weighted.get(review_id, ZERO) + part
        weights[review_id] = weights.get(review_id, ZERO) + criterion.weight
    if uniform:
        return {key: total / weights[key] for key, total in weighted.items()}
    scale = weighted_scale(criteria)
    return {key: scale.low + total / weights[key] * scale.width for key, total in weighted.items()}


def mean(values: Iterable[Decimal]) -> Decimal | None:
    """The arithmetic mean, or None for no values."""
    values = list(values)
    if not values:
        return None
    return sum(values, ZERO) / len(values)


def population_sd(values: Sequence[Decimal]) -> Decimal:
    """The population standard deviation (divided by n); 0 for fewer than two values."""
    if len(values) < 2:
        return ZERO
    centre = sum(values, ZERO) / len(values)
    deviations = [v - centre for v in values]
    variance = sum([d * d for d in deviations], ZERO) / len(values)
    return variance.sqrt()


def spread(values: Sequence[Decimal]) -> Decimal | None:
    """Highest minus lowest; None for no values."""
    if not values:
        return None
    return max(values) - min(values)


def is_spread_flagged(value: Decimal | None, scale: Scale) -> bool:
    """More than a third of the scale between the highest and the lowest review score."""
    return value is not None and value > scale.spread_limit


def _float_sd(values: list[float], centre: float) -> float:
    """The population standard deviation of ``values`` around their mean ``centre``."""
    return math.sqrt(sum([(v - centre) * (v - centre) for v in values]) / len(values))


def _normalised(reviews: Sequence[ScoredReview], scale: Scale) -> dict[int, float]:
    """Each review's normalised score as a float, by review id."""
    if not reviews:
        return {}
    everyone = [float(r.score) for r in reviews]
    global_mean = sum(everyone) / len(everyone)
    global_sd = _float_sd(everyone, global_mean)
    by_reviewer: dict[int, list[ScoredReview]] = defaultdict(list)
    for review in reviews:
        by_reviewer[review.reviewer_id].append(review)
    low, high = float(scale.low), float(scale.high)
    result: dict[int, float] = {}
    for theirs in by_reviewer.values():
        scores = [float(r.score) for r in theirs]
        own_mean = sum(scores) / len(scores)
        own_sd = _float_sd(scores, own_mean) if len(scores) > 1 else 0.0
        for review, score in zip(theirs, scores, strict=True):
            z = (score - own_mean) / own_sd if own_sd > 0 else 0.0
            value = global_mean + z * global_sd
            result[review.review_id] = low if value < low else high if value > high else value
    return result


def normalised_scores(reviews: Sequence[ScoredReview], scale: Scale) -> dict[int, Decimal]:
    """Each review's normalised score, by review id (see the module docstring)."""
    return {key: Decimal(value) for key, value in _normalised(reviews, scale).items()}


def score_proposals(reviews: Sequence[ScoredReview], scale: Scale) -> dict[int, ProposalScore]:
    """Every proposal that has scored reviews, by proposal id.

    ``reviews`` must be all the submitted scientific reviews of the call: the normalisation
    looks at each reviewer's whole set, not only at one proposal.
    """
    normalised = _normalised(reviews, scale)
    by_proposal: dict[int, list[ScoredReview]] = defaultdict(list)
    for review in reviews:
        by_proposal[review.proposal_id].append(review)
    limit = scale.spread_limit
    result = {}
    for proposal_id, theirs in by_proposal.items():
        scores = [r.score for r in theirs]
        count = len(scores)
        difference = max(scores) - min(scores)
        result[proposal_id] = ProposalScore(
            reviews=count,
            score=sum(scores, ZERO) / count,
            normalised=Decimal(sum([normalised[r.review_id] for r in theirs]) / count),
            spread=difference,
            spread_flagged=difference > limit,
        )
    return result


def rounded(value: Decimal | None) -> Decimal | None:
    """Two decimals, halves away from zero (3.665 → 3.67), as pages and exports show them."""
    if value is None:
        return None
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
