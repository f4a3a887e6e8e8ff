"""The reviewer's forms: answering an invitation and writing a review (PRODUCT §5.1, §5.2).

The review forms only parse what was typed: a draft may be incomplete, so every field is
optional here and ``review_submit`` decides what a submission needs (and names every missing
part at once). Field names are the keys the services use for their refusals:
``score-<criterion id>``, ``recommended-<call resource id>``, and the model's field names.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.fields import EMAIL_MAX_LENGTH, NameField
from proposals.calls.models import CallCriterion
from proposals.review.enums import Recommendation, ReviewKind, TechnicalVerdict
from proposals.review.models import Review
from proposals.review.selectors.reviewing import (
    ReviewContent,
    recommended_field_name,
    score_field_name,
)
from proposals.review.services.conflicts import DETAIL_MAX_LENGTH
from proposals.review.services.content import TEXT_FIELDS
from proposals.review.services.reviewing import DECLINE_REASON_MAX_LENGTH
from proposals.submission.forms.proposal import PlainTextField, grouped_number, plain_number
from proposals.submission.models import ResourceRequest

COMMENT_MAX_LENGTH = 20_000


class AcceptForm(forms.Form):
    """Accepting needs the reviewer's word that they have no conflict of interest."""

    no_conflict = forms.BooleanField(
        label=_("I have no conflict of interest with this proposal"),
        help_text=_(
            "You are not on its team, do not work with its applicants, and have no other "
            "reason that could bias your review."
        ),
        error_messages={
            "required": _(
                "Tick the box to confirm that you have no conflict of interest, or declare "
                "your conflict below."
            )
        },
    )


class DeclineForm(forms.Form):
    reason = PlainTextField(
        label=_("Why do you decline?"),
        max_length=DECLINE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For the call managers, e.g. “no time before the due date”."),
        error_messages={
            "required": _("Please say briefly why you decline, so a replacement can be found.")
        },
    )


def _scale_choices(criterion: CallCriterion) -> list[tuple[int, str]]:
    """The scale's values as radio labels, its ends named: "0 (lowest)", 1, …, "5 (highest)"."""
    low, high = criterion.scale_min, criterion.scale_max
    choices = [(value, str(value)) for value in range(low, high + 1)]
    choices[0] = (low, gettext("%(value)d (lowest)") % {"value": low})
    choices[-1] = (high, gettext("%(value)d (highest)") % {"value": high})
    return choices


class ReviewForm(forms.Form):
    """The fields every review form shares: the version it was loaded at."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    kind: ReviewKind

    def text_data(self) -> dict[str, str]:
        """The text fields for ``data`` of ``review_save`` / ``review_submit``."""
        return {name: self.cleaned_data.get(name) or "" for name in TEXT_FIELDS[self.kind]}

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``review_save`` / ``review_submit`` besides review and by."""
        raise NotImplementedError

    def add_service_error(self, error: ValidationError) -> None:
        """A refusal from a service, beside its field when it names one of ours."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error:
            self.add_error(name if name in self.fields else None, messages)

    def differences(self, review: Review, content: ReviewContent) -> list[tuple[str, str]]:
        """After a save refused because the review changed meanwhile: each field whose typed
        value differs from the saved one, as (label, the saved value in words)."""
        raise NotImplementedError

    def _text_differences(self, review: Review) -> list[tuple[str, str]]:
        found = []
        for name in TEXT_FIELDS[self.kind]:
            typed = (self.cleaned_data.get(name) or "").strip()
            saved = getattr(review, name)
            if typed != saved.strip():
                display = getattr(review, f"get_{name}_display", None)
                words = str(display()) if display and saved else saved
                found.append((str(self.fields[name].label), words or "—"))
        return found

    def with_version(self, version: int) -> None:
        """After a refused or partly accepted submission, post the current version next time
        while keeping everything typed."""
        data = self.data.copy()
        data["lock_version"] = str(version)
        self.data = data


class ScientificReviewForm(ReviewForm):
    """A score per criterion of the call (radio buttons on its scale), the comments and the
    recommendation."""

    kind = ReviewKind.SCIENTIFIC

    comment_to_applicant = PlainTextField(
        label=_("Comment to the applicant"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Required to submit. The applicant will read this; do not sign it or write "
            "anything that reveals who you are."
        ),
    )
    confidential_comment = PlainTextField(
        label=_("Confidential comment to the committee"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Read by the committee and the call managers; never shown to the applicant."),
    )
    recommendation = forms.ChoiceField(
        label=_("Your recommendation"),
        required=False,
        choices=Recommendation.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, criteria: Iterable[CallCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            field = forms.TypedChoiceField(
                label=criterion.name,
                required=False,
                coerce=int,
                empty_value=None,
                choices=_scale_choices(criterion),
                widget=forms.RadioSelect,
                help_text=criterion.description,
            )
            field.criterion = criterion
            self.fields[score_field_name(criterion.pk)] = field
        scores = [score_field_name(c.pk) for c in self.criteria]
        self.order_fields(["lock_version", *scores])

    @classmethod
    def initial_for(cls, review: Review, content: ReviewContent) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "lock_version": review.lock_version,
            "comment_to_applicant": review.comment_to_applicant,
            "confidential_comment": review.confidential_comment,
            "recommendation": review.recommendation,
        }
        for criterion_id, value in content.scores.items():
            initial[score_field_name(criterion_id)] = value
        return initial

    def differences(self, review: Review, content: ReviewContent) -> list[tuple[str, str]]:
        found = []
        for criterion in self.criteria:
            saved = content.scores.get(criterion.pk)
            if self.cleaned_data.get(score_field_name(criterion.pk)) != saved:
                found.append((criterion.name, "—" if saved is None else str(saved)))
        return found + self._text_differences(review)

    def score_fields(self) -> list[forms.BoundField]:
        return [self[score_field_name(c.pk)] for c in self.criteria]

    def service_arguments(self) -> dict[str, Any]:
        return {
            "data": self.text_data(),
            "scores": {c.pk: self.cleaned_data.get(score_field_name(c.pk)) for c in self.criteria},
        }


class TechnicalReviewForm(ReviewForm):
    """The verdict, a recommended amount per resource the proposal requested, and comments
    for the committee (kept in ``confidential_comment``; see ``services.reviewing``)."""

    kind = ReviewKind.TECHNICAL

    verdict = forms.ChoiceField(
        label=_("Technical verdict"),
        required=False,
        choices=TechnicalVerdict.choices,
        widget=forms.RadioSelect,
    )
    confidential_comment = PlainTextField(
        label=_("Comments"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "For the committee and the call managers; never shown to the applicant. "
            "Required when the proposal is feasible only with changes, or not feasible."
        ),
    )

    def __init__(self, *args: Any, requests: Iterable[ResourceRequest], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests = list(requests)
        for request in self.requests:
            resource = request.call_resource.resource
            field = forms.DecimalField(
                label=gettext("%(resource)s: recommended amount (%(unit)s)")
                % {"resource": resource.name, "unit": resource.unit},
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                help_text=gettext("Requested: %(amount)s %(unit)s.")
                % {"amount": grouped_number(request.amount), "unit": resource.unit},
            )
            field.request = request
            self.fields[recommended_field_name(request.call_resource_id)] = field
        amounts = [recommended_field_name(r.call_resource_id) for r in self.requests]
        self.order_fields(["lock_version", "verdict", *amounts])

    @classmethod
    def initial_for(cls, review: Review, content: ReviewContent) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "lock_version": review.lock_version,
            "verdict": review.verdict,
            "confidential_comment": review.confidential_comment,
        }
        for offer_id, amount in content.recommended.items():
            initial[recommended_field_name(offer_id)] = plain_number(amount)
        return initial

    def differences(self, review: Review, content: ReviewContent) -> list[tuple[str, str]]:
        found = []
        for request in self.requests:
            name = recommended_field_name(request.call_resource_id)
            saved = content.recommended.get(request.call_resource_id)
            if self.cleaned_data.get(name) != saved:
                unit = request.call_resource.resource.unit
                words = "—" if saved is None else f"{grouped_number(saved)} {unit}"
                found.append((str(self.fields[name].label), words))
        return self._text_differences(review) + found

    def amount_fields(self) -> list[forms.BoundField]:
        return [self[recommended_field_name(r.call_resource_id)] for r in self.requests]

    def service_arguments(self) -> dict[str, Any]:
        recommended: dict[int, Decimal | None] = {
            r.call_resource_id: self.cleaned_data.get(recommended_field_name(r.call_resource_id))
            for r in self.requests
        }
        return {"data": self.text_data(), "recommended": recommended}


def review_form(
    review: Review, content: ReviewContent, data: Any = None
) -> ScientificReviewForm | TechnicalReviewForm:
    """The form of ``review``'s kind, bound to ``data`` or filled with what is saved."""
    if review.kind == ReviewKind.TECHNICAL:
        return TechnicalReviewForm(
            data,
            requests=content.requests,
            initial=TechnicalReviewForm.initial_for(review, content),
        )
    return ScientificReviewForm(
        data,
        criteria=content.criteria,
        initial=ScientificReviewForm.initial_for(review, content),
    )


# --- Forms of single actions: what a POST carries is read here, never from request.POST -------

# A reply's absolute cap; the call's own (shorter) limit is the service's to check.
REPLY_TEXT_MAX_LENGTH = 100_000


class ConflictDeclareForm(forms.Form):
    """A reviewer declares a conflict of interest, with the reason (``conflict_declare``)."""

    detail = PlainTextField(
        label=_("Why are you in conflict with this proposal?"),
        max_length=DETAIL_MAX_LENGTH,
        help_text=_("Only the call managers read this."),
        error_messages={
            "required": _("Please say briefly why you are in conflict with this proposal.")
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids on a page that shows the decline form's too.
        kwargs.setdefault("auto_id", "id_conflict_%s")
        super().__init__(*args, **kwargs)


class ManualAssignmentForm(forms.Form):
    """A manager names a reviewer of the call's pool (id, name or email) and the kind."""

    reviewer = NameField(
        label=_("Reviewer"),
        max_length=EMAIL_MAX_LENGTH,
        error_messages={
            "required": _("Choose a reviewer of this call's pool (name or email from the list).")
        },
    )
    kind = forms.ChoiceField(label=_("Kind of review"), choices=ReviewKind.choices, required=False)

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or ReviewKind.SCIENTIFIC

    def refusal(self) -> str:
        """Every error of an invalid form, in one sentence for the page's message."""
        return " ".join(message for messages in self.errors.values() for message in messages)


class ReplyForm(forms.Form):
    """The PI's reply to the reviews. The call's own length limit (below this field's) is
    checked by ``reply_submit``, whose message counts what to cut."""

    text = PlainTextField(required=False, max_length=REPLY_TEXT_MAX_LENGTH)
