"""Forms of a proposal's section pages: general, resources and technical data (PRODUCT §4.1).

Drafts may be incomplete, so no field is required here: the forms check format only, and
completeness is ``proposal_problems``' job at submission. Every form carries the hidden
``lock_version`` it was loaded with, which the services compare (PRODUCT §4.2). The pages
around these forms are in ``proposals.submission.forms.editors``.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.enums import ScienceField
from accounts.fields import FreeTextField, NameField
from accounts.forms import (
    EXPERTISE_DOMAINS,
    KEYWORDS_TEXT_MAX_LENGTH,
    MAX_KEYWORD_LENGTH,
    MAX_KEYWORDS,
    parse_keywords,
    validate_keywords,
)
from proposals.calls.models import CallResource
from proposals.submission.services.editing import RequestData, ScalingData

ABSTRACT_MAX_LENGTH = 2000
# The longest free texts of a proposal (PRODUCT §4.1 sets the title's, acronym's and abstract's).
PREVIOUS_ALLOCATIONS_MAX_LENGTH = 10_000
EXCLUDED_REVIEWERS_MAX_LENGTH = 2_000
CODES_MAX_LENGTH = 2_000
STORAGE_MAX_LENGTH = 5_000
JUSTIFICATION_MAX_LENGTH = 5_000
MAX_SCALING_ROWS = 50
TAKE_THEIRS = "take_theirs"


def plain_number(value: Decimal | int | None) -> str:
    """A number as typed into a form: 150000, 0.5 (no trailing zeros, no grouping)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value.normalize():f}"
    return text


def grouped_number(value: Decimal | int) -> str:
    """A number as the page shows it: 200,000 or 0.5 (grouped the reader's way)."""
    if isinstance(value, Decimal):
        value = value.normalize()
        value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
    return number_format(value, force_grouping=True)


# Text whose line breaks count once, with no control character (``accounts.fields``).
PlainTextField = FreeTextField


class KeywordsField(FreeTextField):
    """Comma-separated keywords → a list: trimmed, deduplicated, at most 20 of ≤ 50 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", KEYWORDS_TEXT_MAX_LENGTH)
        super().__init__(**kwargs)

    @staticmethod
    def hint() -> str:
        """The help text, in the reader's language (so built per request, not at import)."""
        return gettext(
            "Separate them with commas, e.g. protein folding, graph neural networks. "
            "At most %(count)d, each up to %(length)d characters."
        ) % {"count": MAX_KEYWORDS, "length": MAX_KEYWORD_LENGTH}

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value: Any) -> list[str]:
        return validate_keywords(parse_keywords(super().clean(value)))

    def has_changed(self, initial: Any, data: Any) -> bool:
        return parse_keywords(self.prepare_value(initial) or "") != parse_keywords(data or "")


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def science_field_choices() -> list:
    """The ERC panels grouped by domain, after an empty choice."""
    groups = [
        (
            f"{legend} ({prefix})",
            [(value, label) for value, label in ScienceField.choices if value.startswith(prefix)],
        )
        for prefix, legend in EXPERTISE_DOMAINS
    ]
    return [("", _("Choose a field")), *groups]


class SectionForm(forms.Form):
    """What every section form carries: the version of the proposal it was loaded from."""

    lock_version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("This page is out of date: reload it and make your changes again."),
            "invalid": _("This page is out of date: reload it and make your changes again."),
        },
    )


class GeneralForm(SectionForm):
    title = NameField(
        label=_("Title"),
        required=False,
        max_length=200,
        error_messages={
            "max_length": _(
                "Keep the title to %(limit_value)d characters or fewer; it has %(show_value)d."
            )
        },
    )
    acronym = NameField(
        label=_("Acronym"),
        required=False,
        max_length=16,
        help_text=_("Up to 16 letters, digits and dashes, e.g. SPARSE-MOE."),
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9-]+$",
                _("Use only letters, digits and dashes (no spaces), e.g. SPARSE-MOE."),
                code="acronym",
            )
        ],
        error_messages={
            "max_length": _(
                "Keep the acronym to %(limit_value)d characters or fewer; it has %(show_value)d."
            )
        },
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "characters"}),
    )
    abstract = PlainTextField(
        label=_("Abstract"),
        required=False,
        max_length=ABSTRACT_MAX_LENGTH,
        error_messages={
            "max_length": _(
                "Keep the abstract to %(limit_value)s characters or fewer; it has %(show_value)s."
            )
        },
        widget=_textarea(10),
    )
    field = forms.ChoiceField(
        label=_("Field of science"),
        required=False,
        choices=science_field_choices,
        help_text=_("The ERC panel closest to your project; it guides the choice of reviewers."),
    )
    keywords = KeywordsField(label=_("Keywords"))
    pi_affiliation = NameField(
        label=_("Principal investigator's affiliation"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    pi_country = forms.ChoiceField(label=_("Country of the affiliation"), required=False)
    previous_allocations = PlainTextField(
        label=_("Previous allocations and results"),
        required=False,
        max_length=PREVIOUS_ALLOCATIONS_MAX_LENGTH,
        help_text=_(
            "Earlier compute time for this or a related project: where, how much, "
            "and what came of it (publications, models, data)."
        ),
        widget=_textarea(6),
    )
    excluded_reviewers = PlainTextField(
        label=_("Reviewers to exclude"),
        required=False,
        max_length=EXCLUDED_REVIEWERS_MAX_LENGTH,
        help_text=_("Optional. Names or email addresses, one per line, with the reason."),
        widget=_textarea(4),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pi_country"].choices = [("", _("Choose a country")), *countries]
        self.fields["abstract"].help_text = self._abstract_hint()
        self.fields["keywords"].help_text = KeywordsField.hint()

    def _abstract_hint(self) -> str:
        raw = self.data.get("abstract") if self.is_bound else self.initial.get("abstract")
        count = len((raw or "").replace("\r\n", "\n"))
        limit = number_format(ABSTRACT_MAX_LENGTH, force_grouping=True)
        if not count:
            return gettext("At most %(limit)s characters.") % {"limit": limit}
        return gettext("At most %(limit)s characters; it has %(count)s.") % {
            "limit": limit,
            "count": number_format(count, force_grouping=True),
        }


class TechnicalForm(SectionForm):
    codes = PlainTextField(
        label=_("Codes and versions"),
        required=False,
        max_length=CODES_MAX_LENGTH,
        help_text=_("The software you will run, with versions, e.g. PyTorch 2.5, Megatron-LM."),
        widget=_textarea(4),
    )
    job_size = NameField(
        label=_("Typical job size"),
        required=False,
        max_length=200,
        help_text=_("e.g. 64 nodes, 256 GPUs"),
    )
    wall_time = NameField(
        label=_("Typical wall time"),
        required=False,
        max_length=100,
        help_text=_("e.g. 24 hours"),
    )
    memory = NameField(
        label=_("Memory per job"),
        required=False,
        max_length=200,
        help_text=_("e.g. 80 GB per GPU, 512 GB per node"),
    )
    storage = PlainTextField(
        label=_("Storage and data management"),
        required=False,
        max_length=STORAGE_MAX_LENGTH,
        help_text=_(
            "How much data you read and write, where it lives during and after the project."
        ),
        widget=_textarea(5),
    )


class ScalingRowForm(forms.Form):
    """One row of the scaling table. A row left empty is ignored."""

    gpus = forms.IntegerField(
        label=_("GPUs"),
        required=False,
        min_value=1,
        error_messages={
            "min_value": _("Give a whole number of GPUs, 1 or more."),
            "invalid": _("Give a whole number of GPUs, 1 or more."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    seconds_per_step = forms.DecimalField(
        label=_("Time per step (seconds)"),
        required=False,
        max_digits=12,
        decimal_places=4,
        error_messages={"invalid": _("Give the time in seconds, e.g. 1.25.")},
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )

    def clean_seconds_per_step(self) -> Decimal | None:
        seconds = self.cleaned_data["seconds_per_step"]
        if seconds is not None and seconds <= 0:
            raise ValidationError(_("Give a time above zero, in seconds."), code="min_value")
        return seconds

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        gpus, seconds = cleaned.get("gpus"), cleaned.get("seconds_per_step")
        if gpus is None and seconds is not None and not self.has_error("gpus"):
            self.add_error("gpus", _("Give the number of GPUs for this time, or clear the row."))
        if seconds is None and gpus is not None and not self.has_error("seconds_per_step"):
            self.add_error(
                "seconds_per_step", _("Give the time per step on these GPUs, or clear the row.")
            )
        return cleaned


class ScalingFormSet(forms.BaseFormSet):
    """The scaling table: rows in the order typed, no GPU count twice."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")

    def kept_forms(self) -> list[forms.Form]:
        """Rows with a GPU count and not marked for removal (after ``is_valid``; a row with an
        error keeps the values that were valid)."""
        return [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("gpus") is not None
        ]

    def clean(self) -> None:
        # Checked even when other rows have errors, so every wrong row shows at once.
        seen: set[int] = set()
        for form in self.kept_forms():
            gpus = form.cleaned_data["gpus"]
            if gpus in seen and not form.has_error("gpus"):
                form.add_error(
                    "gpus",
                    ValidationError(
                        _("Another row already has %(gpus)s GPUs; keep one of them."),
                        code="duplicate",
                        params={"gpus": gpus},
                    ),
                )
            seen.add(gpus)

    def points(self) -> list[ScalingData]:
        return [
            {
                "gpus": form.cleaned_data["gpus"],
                "seconds_per_step": form.cleaned_data["seconds_per_step"],
            }
            for form in self.kept_forms()
        ]


def scaling_formset_class(extra: int) -> type[ScalingFormSet]:
    return forms.formset_factory(
        ScalingRowForm,
        formset=ScalingFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_SCALING_ROWS,
        validate_max=True,
        absolute_max=MAX_SCALING_ROWS,
    )


def amount_field_name(offer: CallResource) -> str:
    return f"request-{offer.pk}-amount"


def justification_field_name(offer: CallResource) -> str:
    return f"request-{offer.pk}-justification"


class ResourcesForm(SectionForm):
    """One amount and one justification per resource offered in the call.

    Field names are ``request-<call_resource_id>-amount`` and ``-justification``, the names
    ``proposal_problems`` uses. Amounts outside the call's limits are accepted (a draft may
    hold them); the page warns about them.
    """

    def __init__(self, *args: Any, offers: Sequence[CallResource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers = list(offers)
        for offer in self.offers:
            unit = offer.resource.unit
            self.fields[amount_field_name(offer)] = forms.DecimalField(
                label=gettext("Amount requested (%(unit)s)") % {"unit": unit},
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                help_text=gettext(
                    "Between %(min)s and %(max)s %(unit)s per proposal. "
                    "Leave empty if you do not need this resource."
                )
                % {
                    "min": grouped_number(offer.min_request),
                    "max": grouped_number(offer.max_request),
                    "unit": unit,
                },
                error_messages={
                    "min_value": _("The amount cannot be negative."),
                    "invalid": _("Give a number, e.g. 150000."),
                },
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
            self.fields[justification_field_name(offer)] = PlainTextField(
                label=_("Justification"),
                required=False,
                max_length=JUSTIFICATION_MAX_LENGTH,
                help_text=_(
                    "How you arrived at the amount, e.g. number of runs × GPUs × hours per run, "
                    "based on the scaling table."
                ),
                widget=_textarea(4),
            )

    def requests(self) -> list[RequestData]:
        """One item per offered resource (call after ``is_valid``). A justification typed
        without an amount is kept with the amount 0, so no typed text is lost."""
        items: list[RequestData] = []
        for offer in self.offers:
            amount = self.cleaned_data.get(amount_field_name(offer))
            justification = self.cleaned_data.get(justification_field_name(offer), "")
            if amount is None and justification.strip():
                amount = Decimal(0)
            items.append({"call_resource": offer, "amount": amount, "justification": justification})
        return items
