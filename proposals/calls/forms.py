"""Forms of the call pages: the call itself, its budgets and criteria, and its people.

Dates are typed as wall-clock times in the call's own zone (whatever the reader's zone is) and
turned into aware datetimes in ``CallForm.clean``; the services store them in UTC.
"""

import copy
import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.forms.fields import BaseTemporalField
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.fields import EmailAddressField, FreeTextField, NameField
from proposals.calls.cycles import local_time_exists
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call, CallCriterion, CallResource
from proposals.calls.services import DATETIME_FIELDS, EDITABLE_FIELDS, BudgetData, CriterionData

LOCAL_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
DESCRIPTION_MAX_LENGTH = 5_000
GUIDELINES_MAX_LENGTH = 20_000
CRITERION_DESCRIPTION_MAX_LENGTH = 1_000


class LocalDateTimeInput(forms.DateTimeInput):
    """``<input type=datetime-local step=1>``: seconds can be typed (deadlines are strict)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"step": "1", **(attrs or {})}, format=LOCAL_DATETIME_FORMAT)


class LocalDateTimeField(forms.DateTimeField):
    """A naive wall-clock time; the form decides which zone it is in.

    Django's own field would read it in the reader's active zone, which is not the call's.
    """

    widget = LocalDateTimeInput
    input_formats = [LOCAL_DATETIME_FORMAT, "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return BaseTemporalField.to_python(self, value)

    def prepare_value(self, value: Any) -> Any:
        return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CallForm(forms.ModelForm):
    """The call's own fields. Dates come and go in the call's time zone."""

    reference_prefix = NameField(
        label=_("Reference prefix"),
        max_length=16,
        help_text=_("Start of proposal reference numbers, e.g. JUP27-1. Letters, digits, dashes."),
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9-]+$", _("Use only letters, digits and dashes, e.g. JUP27-1.")
            )
        ],
    )
    description = FreeTextField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    guidelines = FreeTextField(
        label=_("Guidelines"),
        required=False,
        max_length=GUIDELINES_MAX_LENGTH,
        help_text=_("Plain text; line breaks are kept."),
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    class Meta:
        model = Call
        fields = EDITABLE_FIELDS
        field_classes = {
            **dict.fromkeys(DATETIME_FIELDS, LocalDateTimeField),
            "code": NameField,
            "name": NameField,
        }
        widgets = {
            "period_start": DateInput(),
            "period_end": DateInput(),
            **{name: LocalDateTimeInput() for name in DATETIME_FIELDS},
        }
        help_texts = {
            "time_zone": _("Every date and time below is in this time zone."),
            "reply_opens_at": _("Optional. Between reviews due and decisions due."),
            "reply_closes_at": _("Optional. Give both ends of the window or neither."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            zone = self.instance.tz
            for name in DATETIME_FIELDS:
                value = getattr(self.instance, name)
                if value is not None and name not in kwargs.get("initial", {}):
                    self.initial[name] = value.astimezone(zone).replace(tzinfo=None)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if Call.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("Another call already has this code."), code="unique")
        return code

    def clean_reference_prefix(self) -> str:
        prefix = self.cleaned_data["reference_prefix"].strip()
        taken = Call.objects.filter(reference_prefix__iexact=prefix).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                _("Another call already uses this reference prefix."), code="unique"
            )
        return prefix

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._localise_dates(cleaned)
        self._check_date_order(cleaned)
        return cleaned

    def _localise_dates(self, cleaned: dict[str, Any]) -> None:
        """Read each typed time in the chosen zone; without a valid zone, keep none of them."""
        name = cleaned.get("time_zone")
        zone = zoneinfo.ZoneInfo(name) if name else None
        for field in DATETIME_FIELDS:
            local = cleaned.get(field)
            if local is None:
                continue
            if zone is None:
                del cleaned[field]
            elif not local_time_exists(local, zone):
                self.add_error(
                    field,
                    _("This time does not exist in %(zone)s: the clocks skip it that night.")
                    % {"zone": name},
                )
            else:
                cleaned[field] = local.replace(tzinfo=zone)

    def _check_date_order(self, cleaned: dict[str, Any]) -> None:
        def later(
            first: str, second: str, message: str, *, strict: bool = True, on: str = ""
        ) -> None:
            """``second`` must come after ``first`` (or at the same time unless ``strict``)."""
            a, b = cleaned.get(first), cleaned.get(second)
            if a is None or b is None:
                return
            if (b <= a) if strict else (b < a):
                self.add_error(on or second, message)

        later("opens_at", "closes_at", _("The call must close after it opens."))
        later(
            "closes_at",
            "review_due_at",
            _("Reviews cannot be due before the call closes."),
            strict=False,
        )
        later(
            "review_due_at",
            "decisions_due_at",
            _("Decisions cannot be due before the reviews."),
            strict=False,
        )
        later("period_start", "period_end", _("The allocation period must end after it starts."))

        reply_opens, reply_closes = cleaned.get("reply_opens_at"), cleaned.get("reply_closes_at")
        if reply_opens is None and reply_closes is None:
            return
        if reply_opens is None:
            if not self.has_error("reply_opens_at"):
                self.add_error("reply_opens_at", _("Give the opening too, or leave both empty."))
            return
        if reply_closes is None:
            if not self.has_error("reply_closes_at"):
                self.add_error("reply_closes_at", _("Give the closing too, or leave both empty."))
            return
        later(
            "reply_opens_at", "reply_closes_at", _("The right of reply must close after it opens.")
        )
        later(
            "review_due_at",
            "reply_opens_at",
            _("The right of reply cannot open before reviews are due."),
            strict=False,
        )
        later(
            "reply_closes_at",
            "decisions_due_at",
            _("The right of reply must close by the time decisions are due."),
            strict=False,
            on="reply_closes_at",
        )


class CallResourceForm(forms.ModelForm):
    """One resource of the call with its budget and the limits of one request."""

    class Meta:
        model = CallResource
        fields = ["resource", "budget", "min_request", "max_request"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        resources = self.fields["resource"].queryset
        current = Q(pk=self.instance.resource_id) if self.instance.resource_id else Q()
        self.fields["resource"].queryset = resources.filter(Q(is_active=True) | current)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        budget = cleaned.get("budget")
        minimum, maximum = cleaned.get("min_request"), cleaned.get("max_request")
        if budget is not None and budget <= 0:
            self.add_error("budget", _("The budget must be more than zero."))
        if minimum is not None and minimum < 0:
            self.add_error("min_request", _("The minimum request cannot be negative."))
        elif minimum is not None and maximum is not None and minimum > maximum:
            self.add_error("min_request", _("The minimum request cannot be above the maximum."))
        if maximum is not None and budget is not None and budget > 0 and maximum > budget:
            self.add_error("max_request", _("The maximum request cannot exceed the budget."))
        return cleaned

    # Rows are matched by resource when saved and checked against each other by the formset,
    # so a row's own check against the database (which still holds the old rows) is skipped.
    def validate_unique(self) -> None:
        return None

    def validate_constraints(self) -> None:
        return None


class CallCriterionForm(forms.ModelForm):
    description = FreeTextField(
        label=_("Description"),
        required=False,
        max_length=CRITERION_DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = CallCriterion
        fields = ["name", "description", "weight", "scale_min", "scale_max"]
        field_classes = {"name": NameField}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        weight = cleaned.get("weight")
        low, high = cleaned.get("scale_min"), cleaned.get("scale_max")
        if weight is not None and weight <= 0:
            self.add_error("weight", _("The weight must be more than zero."))
        if low is not None and high is not None and low >= high:
            self.add_error("scale_max", _("The highest score must be above the lowest."))
        return cleaned

    def validate_unique(self) -> None:
        return None

    def validate_constraints(self) -> None:
        return None


class _RowsFormSet(BaseInlineFormSet):
    """Shared by the budget and criterion formsets: a friendlier delete box, kept rows."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this row")

    def kept_forms(self) -> list[forms.Form]:
        """Filled-in rows not marked for removal (call after ``is_valid``)."""
        return [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]


class BudgetFormSet(_RowsFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for form in self.kept_forms():
            resource = form.cleaned_data["resource"]
            if resource.pk in seen:
                form.add_error("resource", _("This resource is already listed above."))
            seen.add(resource.pk)
        if not seen:
            raise ValidationError(_("Offer at least one resource."), code="too_few")

    def rows(self) -> list[BudgetData]:
        return [
            {
                "resource": form.cleaned_data["resource"],
                "budget": form.cleaned_data["budget"],
                "min_request": form.cleaned_data["min_request"],
                "max_request": form.cleaned_data["max_request"],
            }
            for form in self.kept_forms()
        ]


class CriterionFormSet(_RowsFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for form in self.kept_forms():
            name = form.cleaned_data["name"].strip().casefold()
            if name in seen:
                form.add_error("name", _("Another criterion already has this name."))
            seen.add(name)
        if not seen:
            raise ValidationError(_("Give at least one review criterion."), code="too_few")

    def rows(self) -> list[CriterionData]:
        return [
            {
                "id": form.instance.pk,
                "name": form.cleaned_data["name"].strip(),
                "description": form.cleaned_data["description"],
                "weight": form.cleaned_data["weight"],
                "scale_min": form.cleaned_data["scale_min"],
                "scale_max": form.cleaned_data["scale_max"],
            }
            for form in self.kept_forms()
        ]


def budget_formset_class(extra: int) -> type[BudgetFormSet]:
    return inlineformset_factory(
        Call,
        CallResource,
        form=CallResourceForm,
        formset=BudgetFormSet,
        extra=extra,
        can_delete=True,
    )


def criterion_formset_class(extra: int) -> type[CriterionFormSet]:
    return inlineformset_factory(
        Call,
        CallCriterion,
        form=CallCriterionForm,
        formset=CriterionFormSet,
        extra=extra,
        can_delete=True,
    )


class CallEditor:
    """The call form and its two formsets, bound, validated and read as one page."""

    def __init__(self, data: Any = None, *, call: Call | None = None) -> None:
        # The forms write typed values into their instance while validating; a copy keeps the
        # caller's call (shown in the page heading) as it is in the database.
        instance = copy.copy(call) if call is not None else Call()
        extra = 2 if call is not None else 3
        self.form = CallForm(data, instance=instance)
        self.budgets = budget_formset_class(extra)(data, instance=instance, prefix="budgets")
        self.criteria = criterion_formset_class(extra)(data, instance=instance, prefix="criteria")

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.budgets.is_valid(), self.criteria.is_valid()]
        return all(results)

    @property
    def has_errors(self) -> bool:
        """Bound and refused: the page shows the summary above the form."""
        if not self.form.is_bound:
            return False
        return bool(
            self.form.errors
            or self.budgets.total_error_count()
            or self.criteria.total_error_count()
        )

    @property
    def data(self) -> dict[str, Any]:
        return self.form.cleaned_data

    def add_error(self, error: ValidationError) -> None:
        """An error the service raised: beside its field if it names one, else at the top."""
        self.form.add_error(None, error)


class CallRoleForm(forms.Form):
    email = EmailAddressField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=CallRoleKind.choices, initial=CallRoleKind.REVIEWER
    )
    max_load = forms.IntegerField(
        label=_("Maximum reviews"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_("Reviewers only: how many proposals they review at most."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("role") != CallRoleKind.REVIEWER:
            cleaned["max_load"] = None
        return cleaned
