"""What a review holds (see ``reviewing``): its text fields, a scientific review's scores and
a technical review's recommended amounts, checked all at once and written together with the
review's next ``lock_version``, or not at all."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from proposals.calls.models import CallCriterion
from proposals.review.enums import Recommendation, ReviewKind, TechnicalVerdict
from proposals.review.models import Review, ReviewScore, TechnicalRecommendation
from proposals.review.selectors.reviewing import recommended_field_name, score_field_name
from proposals.submission.models import ResourceRequest

# The text fields each kind of review writes (see ``reviewing``'s docstring).
TEXT_FIELDS = {
    ReviewKind.SCIENTIFIC: ("comment_to_applicant", "confidential_comment", "recommendation"),
    ReviewKind.TECHNICAL: ("verdict", "confidential_comment"),
}


def _clean_text(locked: Review, data: Mapping[str, str]) -> tuple[dict[str, str], dict]:
    allowed = TEXT_FIELDS[ReviewKind(locked.kind)]
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Not fields of a {locked.kind} review: {', '.join(sorted(unknown))}")
    values = {name: (data[name] or "").strip() for name in data}
    errors: dict[str, list[str]] = {}
    if values.get("recommendation", "") not in {"", *Recommendation.values}:
        errors["recommendation"] = [_("Choose one of the recommendations.")]
    if values.get("verdict", "") not in {"", *TechnicalVerdict.values}:
        errors["verdict"] = [_("Choose one of the verdicts.")]
    return values, errors


def _clean_scores(
    locked: Review, scores: Mapping[int, int | None], errors: dict[str, list[str]]
) -> dict[int, int | None]:
    if locked.kind != ReviewKind.SCIENTIFIC:
        raise ValueError("Only a scientific review has scores.")
    criteria = {c.pk: c for c in CallCriterion.objects.filter(call_id=locked.proposal.call_id)}
    unknown = set(scores) - set(criteria)
    if unknown:
        raise ValueError(f"Not criteria of the call: {sorted(unknown)}")
    for criterion_id, value in scores.items():
        criterion = criteria[criterion_id]
        if value is not None and not criterion.scale_min <= value <= criterion.scale_max:
            errors[score_field_name(criterion_id)] = [
                _("Choose a score from %(min)d to %(max)d.")
                % {"min": criterion.scale_min, "max": criterion.scale_max}
            ]
    return dict(scores)


def _grouped(value: Decimal) -> str:
    """An amount as the pages show it: 100,000 or 120.5."""
    value = value.normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return number_format(value, force_grouping=True)


def _clean_recommended(
    locked: Review, recommended: Mapping[int, Decimal | None], errors: dict[str, list[str]]
) -> dict[int, Decimal | None]:
    if locked.kind != ReviewKind.TECHNICAL:
        raise ValueError("Only a technical review recommends amounts.")
    requests = {
        r.call_resource_id: r
        for r in ResourceRequest.objects.filter(proposal_id=locked.proposal_id).select_related(
            "call_resource__resource"
        )
    }
    unknown = set(recommended) - set(requests)
    if unknown:
        raise ValueError(f"Resources the proposal did not request: {sorted(unknown)}")
    for offer_id, amount in recommended.items():
        if amount is None:
            continue
        request = requests[offer_id]
        name = recommended_field_name(offer_id)
        if amount < 0:
            errors[name] = [_("The recommended amount cannot be negative.")]
        elif amount > request.amount:
            errors[name] = [
                _("You cannot recommend more than the %(amount)s %(unit)s requested.")
                % {
                    "amount": _grouped(request.amount),
                    "unit": request.call_resource.resource.unit,
                }
            ]
    return dict(recommended)


def _write_scores(locked: Review, scores: dict[int, int | None]) -> None:
    """Make the review's scores exactly the criteria of ``scores`` with a value."""
    existing = {s.criterion_id: s for s in locked.scores.all()}
    cleared = [cid for cid, value in scores.items() if value is None and cid in existing]
    ReviewScore.objects.filter(review=locked, criterion_id__in=cleared).delete()
    for criterion_id, value in scores.items():
        if value is None:
            continue
        row = existing.get(criterion_id)
        if row is None:
            ReviewScore.objects.create(review=locked, criterion_id=criterion_id, value=value)
        elif row.value != value:
            row.value = value
            row.save(update_fields=["value"])


def _write_recommended(locked: Review, recommended: dict[int, Decimal | None]) -> None:
    """Make the review's recommended amounts exactly the resources of ``recommended`` with
    an amount."""
    existing = {r.call_resource_id: r for r in locked.recommended.all()}
    cleared = [rid for rid, amount in recommended.items() if amount is None and rid in existing]
    TechnicalRecommendation.objects.filter(review=locked, call_resource_id__in=cleared).delete()
    for offer_id, amount in recommended.items():
        if amount is None:
            continue
        row = existing.get(offer_id)
        if row is None:
            TechnicalRecommendation.objects.create(
                review=locked, call_resource_id=offer_id, amount=amount
            )
        elif row.amount != amount:
            row.amount = amount
            row.save(update_fields=["amount"])


def write_review_content(
    locked: Review,
    *,
    data: Mapping[str, str],
    scores: Mapping[int, int | None] | None,
    recommended: Mapping[int, Decimal | None] | None,
    now: datetime,
) -> None:
    """Check everything sent, then write it all and the next version (or nothing)."""
    values, errors = _clean_text(locked, data)
    clean_scores = _clean_scores(locked, scores, errors) if scores is not None else None
    clean_recommended = (
        _clean_recommended(locked, recommended, errors) if recommended is not None else None
    )
    if errors:
        raise ValidationError(errors, code="invalid")
    for name, value in values.items():
        setattr(locked, name, value)
    if clean_scores is not None:
        _write_scores(locked, clean_scores)
    if clean_recommended is not None:
        _write_recommended(locked, clean_recommended)
    locked.lock_version += 1
    locked.saved_at = now
    locked.save(update_fields=[*values, "lock_version", "saved_at"])
