"""Forms of a proposal's section pages: general, resources and technical data (PRODUCT §4.1).

Drafts may be incomplete, so no field is required here: the forms check format only, and
completeness is ``proposal_problems``' job at submission. Every form carries the hidden
``lock_version`` it was loaded with, which the services compare (PRODUCT §4.2).

Each page is a ``SectionEditor``: its form (and, for the technical data, the scaling formset)
bound and read as one, with what the page shows beside each field (``FieldView``): errors,
the problems of a refused submission, warnings, and — after a refused concurrent save — the
other person's saved value with a box to take it. Editors never write: the view hands
``editor.changes()`` to the section's service.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.forms.boundfield import BoundField
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.enums import ScienceField
from accounts.forms import EXPERTISE_DOMAINS, MAX_KEYWORD_LENGTH, MAX_KEYWORDS, parse_keywords
from proposals.enums import ProposalSection
from proposals.models import CallResource, Proposal
from proposals.selectors.completeness import Problem
from proposals.services.editing import (
    GENERAL_FIELDS,
    TECHNICAL_FIELDS,
    EditConflict,
    RequestData,
    ScalingData,
)

ABSTRACT_MAX_LENGTH = 2000
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


class PlainTextField(forms.CharField):
    """Text whose line breaks count once: browsers send "\\r\\n" for each, which would make a
    2,000-character abstract that fits the box fail the limit on the server."""

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class KeywordsField(forms.CharField):
    """Comma-separated keywords → a list: trimmed, deduplicated, at most 20 of ≤ 50 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
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
        keywords = parse_keywords(super().clean(value))
        too_long = [keyword for keyword in keywords if len(keyword) > MAX_KEYWORD_LENGTH]
        if too_long:
            raise ValidationError(
                _("Keep each keyword to %(length)d characters or fewer; too long: %(keywords)s."),
                code="keyword_too_long",
                params={"length": MAX_KEYWORD_LENGTH, "keywords": "; ".join(too_long)},
            )
        if len(keywords) > MAX_KEYWORDS:
            raise ValidationError(
                _("Give at most %(max)d keywords; you gave %(count)d."),
                code="too_many_keywords",
                params={"max": MAX_KEYWORDS, "count": len(keywords)},
            )
        return keywords

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
    title = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=200,
        error_messages={
            "max_length": _(
                "Keep the title to %(limit_value)d characters or fewer; it has %(show_value)d."
            )
        },
    )
    acronym = forms.CharField(
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
    pi_affiliation = forms.CharField(
        label=_("Principal investigator's affiliation"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    pi_country = forms.ChoiceField(label=_("Country of the affiliation"), required=False)
    previous_allocations = PlainTextField(
        label=_("Previous allocations and results"),
        required=False,
        help_text=_(
            "Earlier compute time for this or a related project: where, how much, "
            "and what came of it (publications, models, data)."
        ),
        widget=_textarea(6),
    )
    excluded_reviewers = PlainTextField(
        label=_("Reviewers to exclude"),
        required=False,
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
        help_text=_("The software you will run, with versions, e.g. PyTorch 2.5, Megatron-LM."),
        widget=_textarea(4),
    )
    job_size = forms.CharField(
        label=_("Typical job size"),
        required=False,
        max_length=200,
        help_text=_("e.g. 64 nodes, 256 GPUs"),
    )
    wall_time = forms.CharField(
        label=_("Typical wall time"),
        required=False,
        max_length=100,
        help_text=_("e.g. 24 hours"),
    )
    memory = forms.CharField(
        label=_("Memory per job"),
        required=False,
        max_length=200,
        help_text=_("e.g. 80 GB per GPU, 512 GB per node"),
    )
    storage = PlainTextField(
        label=_("Storage and data management"),
        required=False,
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


# --- What the page shows beside each field ---------------------------------------------------


@dataclass
class FieldView:
    """One field as the page renders it, with everything shown beside it."""

    bound: BoundField
    errors: list[str] = dataclass_field(default_factory=list)
    warnings: list[str] = dataclass_field(default_factory=list)
    theirs: str | None = None  # the other person's saved value, after a refused save
    read_only: bool = False

    @property
    def name(self) -> str:
        return self.bound.html_name

    @property
    def has_theirs(self) -> bool:
        return self.theirs is not None

    @property
    def help(self) -> str:
        return self.bound.help_text

    def widget(self) -> SafeString:
        """The input, described by its help, errors, warnings and the other saved value."""
        fid = self.bound.auto_id
        described = [
            f"{fid}_{part}"
            for part, shown in (
                ("helptext", self.help),
                ("error", self.errors),
                ("warning", self.warnings),
                ("theirs", self.has_theirs),
            )
            if shown
        ]
        attrs: dict[str, Any] = {}
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if self.errors:
            attrs["aria-invalid"] = "true"
        if self.read_only:
            widget = self.bound.field.widget
            choice = isinstance(widget, forms.Select | forms.CheckboxInput)
            attrs["disabled" if choice else "readonly"] = True
        return self.bound.as_widget(attrs=attrs)


@dataclass
class SummaryItem:
    """A line of the box at the top of the page, linking to the field it is about."""

    anchor: str
    label: str
    message: str


class SectionEditor:
    """A section page's form(s), bound or not, read as one.

    ``problems`` are the section's problems from a refused submission, shown beside their
    fields; ``read_only`` renders every input read-only (no buttons are shown either).
    """

    section: ProposalSection
    template_name: str
    field_names: tuple[str, ...] = ()

    def __init__(
        self,
        proposal: Proposal,
        data: QueryDict | None = None,
        *,
        problems: Iterable[Problem] = (),
        read_only: bool = False,
    ) -> None:
        self.proposal = proposal
        self.read_only = read_only
        self.problems: dict[str, list[str]] = {}
        for problem in problems:
            self.problems.setdefault(problem.field, []).append(problem.message)
        self.section_errors: dict[str, list[str]] = {}
        self.conflict: EditConflict | None = None
        self.row_added = False
        if data is not None:
            data = self._take_theirs(data)
        self.form = self.build(data)

    # -- to be filled in by each section --

    def build(self, data: QueryDict | None) -> SectionForm:
        raise NotImplementedError

    def saved_values(self, proposal: Proposal) -> dict[str, Any]:
        """The saved values of the main form's fields, as the form cleans them."""
        return {name: getattr(proposal, name) for name in self.field_names}

    def display(self, name: str, value: Any) -> str:
        """A saved value as words, for the "their saved value" box."""
        return "" if value is None else str(value)

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments besides proposal, by and expected_version."""
        raise NotImplementedError

    # -- shared --

    def initial(self) -> dict[str, Any]:
        """The form's initial data: the saved values and the version."""
        saved = self.saved_values(self.proposal)
        values = {name: self.form_value(name, saved[name]) for name in self.field_names}
        return {**values, "lock_version": self.proposal.lock_version}

    def form_value(self, name: str, value: Any) -> Any:
        """A saved value as it goes into the form's input."""
        if isinstance(value, Decimal):
            return plain_number(value)
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def _take_theirs(self, data: QueryDict) -> QueryDict:
        """After a refused save, the boxes ticked to take the saved value instead of the typed
        one: the saved value replaces the typed one before anything is read."""
        taken = set(data.getlist(TAKE_THEIRS))
        if not taken:
            return data
        data = data.copy()
        saved = self.saved_values(self.proposal)
        for name in taken & set(self.field_names):
            data[name] = self.form_value(name, saved[name]) or ""
        return data

    def is_valid(self) -> bool:
        return self.form.is_valid()

    @property
    def expected_version(self) -> int:
        return self.form.cleaned_data["lock_version"]

    def add_error(self, error: ValidationError) -> None:
        """A refusal from the service: beside its field when it names one of ours."""
        if not hasattr(error, "error_dict"):
            self.form.add_error(None, error)
            return
        for name, messages in error:
            if name in self.form.fields:
                self.form.add_error(name, messages)
            else:
                self.section_errors.setdefault(name, []).extend(messages)

    def show_conflict(self, conflict: EditConflict) -> None:
        """The save was refused because someone saved first: keep what was typed, show their
        value beside each field that differs, and load their version so saving again (a
        deliberate choice) goes through."""
        self.conflict = conflict
        data = self.form.data.copy()
        data["lock_version"] = str(conflict.proposal.lock_version)
        data.setlist(TAKE_THEIRS, [])
        self.form.data = data

    def differences(self) -> dict[str, str]:
        """Field name → the other person's saved value, for each field where it differs from
        what was typed (after a refused save only)."""
        if self.conflict is None:
            return {}
        current = self.saved_values(self.conflict.proposal)
        return {
            name: self.display(name, value)
            for name, value in current.items()
            if self.typed_value(name) != value
        }

    def typed_value(self, name: str) -> Any:
        return self.form.cleaned_data.get(name)

    def add_row(self) -> None:
        """Only the technical section has rows to add."""

    def view(self, name: str, *, warnings: Sequence[str] = ()) -> FieldView:
        bound = self.form[name]
        # A read-only page (after the deadline) has nothing to correct.
        errors = [] if self.read_only else list(bound.errors)
        unchanged = not self.form.is_bound or name not in self.form.changed_data
        if not errors and unchanged:
            errors = list(self.problems.get(name, []))
        return FieldView(
            bound=bound,
            errors=errors,
            warnings=list(warnings) if not errors else [],
            theirs=self._differences.get(name),
            read_only=self.read_only,
        )

    @cached_property
    def _differences(self) -> dict[str, str]:
        return self.differences()

    @cached_property
    def f(self) -> dict[str, FieldView]:
        """Every visible field's view, by name (for the template: ``editor.f.title``)."""
        return {name: self.view(name) for name in self.field_names}

    def field_views(self) -> list[FieldView]:
        return list(self.f.values())

    @cached_property
    def summary(self) -> list[SummaryItem]:
        """Every error of a refused save, each linking to its field."""
        if not self.form.is_bound or self.read_only:
            return []
        items = [SummaryItem("", "", str(message)) for message in self.form.non_field_errors()]
        items += [SummaryItem("", "", str(message)) for message in self.form["lock_version"].errors]
        for view in self.field_views():
            if view.bound.errors:
                items += [
                    SummaryItem(view.bound.auto_id, str(view.bound.label), str(message))
                    for message in view.bound.errors
                ]
        return items + self.extra_summary()

    def extra_summary(self) -> list[SummaryItem]:
        return []

    @cached_property
    def problem_summary(self) -> list[SummaryItem]:
        """The problems of a refused submission still shown on this page."""
        if self.read_only:
            return []
        items = []
        for view in self.field_views():
            if view.errors and not view.bound.errors:
                items += [
                    SummaryItem(view.bound.auto_id, str(view.bound.label), message)
                    for message in view.errors
                ]
        return items + self.extra_problem_summary()

    def extra_problem_summary(self) -> list[SummaryItem]:
        return []


class GeneralEditor(SectionEditor):
    section = ProposalSection.GENERAL
    template_name = "proposals/proposal/edit_general.html"
    field_names = GENERAL_FIELDS

    def build(self, data: QueryDict | None) -> GeneralForm:
        return GeneralForm(data, initial=self.initial())

    def saved_values(self, proposal: Proposal) -> dict[str, Any]:
        values = super().saved_values(proposal)
        values["pi_country"] = proposal.pi_country.code or ""
        values["keywords"] = list(proposal.keywords or [])
        return values

    def display(self, name: str, value: Any) -> str:
        if name == "keywords":
            return ", ".join(value)
        if name == "field" and value:
            return str(ScienceField(value).label)
        if name == "pi_country" and value:
            return str(countries.name(value))
        return super().display(name, value)

    def changes(self) -> dict[str, Any]:
        return {"data": {name: self.form.cleaned_data[name] for name in self.field_names}}


class ResourcesEditor(SectionEditor):
    section = ProposalSection.RESOURCES
    template_name = "proposals/proposal/edit_resources.html"

    @cached_property
    def offers(self) -> list[CallResource]:
        return list(
            self.proposal.call.call_resources.select_related("resource").order_by(
                "resource__name", "pk"
            )
        )

    @property
    def field_names(self) -> tuple[str, ...]:  # type: ignore[override]
        names: list[str] = []
        for offer in self.offers:
            names += [amount_field_name(offer), justification_field_name(offer)]
        return tuple(names)

    def build(self, data: QueryDict | None) -> ResourcesForm:
        return ResourcesForm(data, offers=self.offers, initial=self.initial())

    def saved_values(self, proposal: Proposal) -> dict[str, Any]:
        requests = {row.call_resource_id: row for row in proposal.requests.all()}
        values: dict[str, Any] = {}
        for offer in self.offers:
            row = requests.get(offer.pk)
            values[amount_field_name(offer)] = row.amount if row else None
            values[justification_field_name(offer)] = row.justification if row else ""
        return values

    def display(self, name: str, value: Any) -> str:
        if isinstance(value, Decimal):
            return grouped_number(value)
        return super().display(name, value)

    def typed_value(self, name: str) -> Any:
        if name.endswith("-amount"):
            for item in self.form.requests():
                if amount_field_name(item["call_resource"]) == name:
                    return item["amount"]
        return super().typed_value(name)

    def changes(self) -> dict[str, Any]:
        return {"requests": self.form.requests()}

    def _amount_warnings(self, offer: CallResource) -> list[str]:
        """A draft may hold an amount outside the call's limits; submission will refuse it."""
        raw = self.form[amount_field_name(offer)].value()
        try:
            amount = Decimal(str(raw).strip()) if raw not in (None, "") else None
        except InvalidOperation:
            return []
        if amount is None or amount == 0 or not amount.is_finite():
            return []
        values = {"unit": offer.resource.unit}
        if amount < offer.min_request:
            values["limit"] = grouped_number(offer.min_request)
            message = gettext(
                "Below the minimum of %(limit)s %(unit)s. You can save the draft like this, "
                "but it cannot be submitted until the amount is within the limits."
            )
        elif amount > offer.max_request:
            values["limit"] = grouped_number(offer.max_request)
            message = gettext(
                "Above the maximum of %(limit)s %(unit)s. You can save the draft like this, "
                "but it cannot be submitted until the amount is within the limits."
            )
        else:
            return []
        return [message % values]

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """Per offered resource: the offer and its two fields' views."""
        return [
            {
                "offer": offer,
                "amount": self.view(
                    amount_field_name(offer), warnings=self._amount_warnings(offer)
                ),
                "justification": self.view(justification_field_name(offer)),
            }
            for offer in self.offers
        ]

    @cached_property
    def f(self) -> dict[str, FieldView]:
        return {
            view.bound.name: view
            for row in self.rows
            for view in (row["amount"], row["justification"])
        }

    @property
    def request_errors(self) -> list[str]:
        """About the requests as a whole: from the service, or the submission's problem."""
        errors = self.section_errors.get("requests", [])
        return errors or ([] if self.form.is_bound else self.problems.get("requests", []))

    def extra_summary(self) -> list[SummaryItem]:
        return [
            SummaryItem("requests", gettext("Resources"), message)
            for message in self.section_errors.get("requests", [])
        ]

    def extra_problem_summary(self) -> list[SummaryItem]:
        if self.form.is_bound:
            return []
        return [
            SummaryItem("requests", gettext("Resources"), message)
            for message in self.problems.get("requests", [])
        ]


class TechnicalEditor(SectionEditor):
    section = ProposalSection.TECHNICAL
    template_name = "proposals/proposal/edit_technical.html"
    field_names = TECHNICAL_FIELDS
    prefix = "scaling"

    def build(self, data: QueryDict | None) -> TechnicalForm:
        points = list(self.proposal.scaling.all())
        extra = 0 if self.read_only else 2 if points else 3
        initial = [
            {"gpus": point.gpus, "seconds_per_step": plain_number(point.seconds_per_step)}
            for point in points
        ]
        formset_class = scaling_formset_class(extra)
        if data is None:
            self.scaling = formset_class(initial=initial, prefix=self.prefix)
        else:
            self.scaling = formset_class(data, prefix=self.prefix)
        return TechnicalForm(data, initial=self.initial())

    def saved_values(self, proposal: Proposal) -> dict[str, Any]:
        values = super().saved_values(proposal)
        values["scaling"] = [
            (point.gpus, point.seconds_per_step) for point in proposal.scaling.all()
        ]
        return values

    def _take_theirs(self, data: QueryDict) -> QueryDict:
        """Taking their table replaces every typed row by their saved rows."""
        if "scaling" not in data.getlist(TAKE_THEIRS):
            return super()._take_theirs(data)
        data = super()._take_theirs(data).copy()
        for key in [key for key in data if key.startswith(f"{self.prefix}-")]:
            del data[key]
        points = list(self.proposal.scaling.all())
        data.update(
            {
                f"{self.prefix}-TOTAL_FORMS": str(len(points) + 1),
                f"{self.prefix}-INITIAL_FORMS": "0",
            }
        )
        for index, point in enumerate(points):
            data[f"{self.prefix}-{index}-gpus"] = str(point.gpus)
            data[f"{self.prefix}-{index}-seconds_per_step"] = plain_number(point.seconds_per_step)
        return data

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.scaling.is_valid()]
        return all(results)

    def typed_value(self, name: str) -> Any:
        if name == "scaling":
            return [(point["gpus"], point["seconds_per_step"]) for point in self.scaling.points()]
        return super().typed_value(name)

    def display(self, name: str, value: Any) -> str:
        if name == "scaling":
            return "; ".join(
                gettext("%(gpus)s GPUs: %(seconds)s s per step")
                % {"gpus": gpus, "seconds": grouped_number(seconds)}
                for gpus, seconds in value
            )
        return super().display(name, value)

    def changes(self) -> dict[str, Any]:
        return {
            "data": {name: self.form.cleaned_data[name] for name in self.field_names},
            "points": self.scaling.points(),
        }

    def add_row(self) -> None:
        """One more empty row, everything typed kept; nothing is saved."""
        key = f"{self.prefix}-TOTAL_FORMS"
        data = self.form.data.copy()
        try:
            total = int(data.get(key, 0))
        except ValueError:
            total = 0
        data[key] = str(min(total + 1, MAX_SCALING_ROWS))
        self.row_added = total < MAX_SCALING_ROWS
        self.form = TechnicalForm(data, initial=self.initial())
        self.scaling = scaling_formset_class(0)(data, prefix=self.prefix)

    @property
    def scaling_theirs(self) -> list[tuple[int, str]] | None:
        """Their saved table when it differs from the typed one (after a refused save)."""
        if "scaling" not in self._differences or self.conflict is None:
            return None
        rows = self.saved_values(self.conflict.proposal)["scaling"]
        return [(gpus, grouped_number(seconds)) for gpus, seconds in rows]

    @property
    def scaling_errors(self) -> list[str]:
        """About the table as a whole: the service's, the formset's, or the problem."""
        if self.read_only:
            return []
        errors = list(self.section_errors.get("scaling", []))
        if self.scaling.is_bound:
            errors += [str(error) for error in self.scaling.non_form_errors()]
        if not errors and not self.scaling.is_bound:
            errors = self.problems.get("scaling", [])
        return errors

    @cached_property
    def scaling_rows(self) -> list[dict[str, Any]]:
        """The formset's rows: their two cells' views and the remove box."""
        return [
            {
                "cells": [
                    FieldView(
                        form[name],
                        errors=[] if self.read_only else list(form[name].errors),
                        read_only=self.read_only,
                    )
                    for name in ("gpus", "seconds_per_step")
                ],
                "delete": form["DELETE"],
            }
            for form in self.scaling.forms
        ]

    def extra_summary(self) -> list[SummaryItem]:
        label = gettext("Scaling table")
        items = [SummaryItem("scaling", label, message) for message in self.scaling_errors]
        for number, row in enumerate(self.scaling_rows, start=1):
            for view in row["cells"]:
                items += [
                    SummaryItem(
                        view.bound.auto_id,
                        gettext("Scaling table, row %(number)d: %(label)s")
                        % {"number": number, "label": view.bound.label},
                        message,
                    )
                    for message in view.errors
                ]
        return items if self.form.is_bound else []

    def extra_problem_summary(self) -> list[SummaryItem]:
        if self.scaling.is_bound:
            return []
        return [
            SummaryItem("scaling", gettext("Scaling table"), message)
            for message in self.problems.get("scaling", [])
        ]


EDITORS: dict[str, type[SectionEditor]] = {
    ProposalSection.GENERAL.value: GeneralEditor,
    ProposalSection.RESOURCES.value: ResourcesEditor,
    ProposalSection.TECHNICAL.value: TechnicalEditor,
}
