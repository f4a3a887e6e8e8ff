"""Section editors: what a proposal's section page shows around its forms.

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
from django.forms.boundfield import BoundField
from django.http import QueryDict
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django_countries import countries

from accounts.enums import ScienceField
from proposals.enums import ProposalSection
from proposals.forms.proposal import (
    MAX_SCALING_ROWS,
    TAKE_THEIRS,
    GeneralForm,
    ResourcesForm,
    SectionForm,
    TechnicalForm,
    amount_field_name,
    grouped_number,
    justification_field_name,
    plain_number,
    scaling_formset_class,
)
from proposals.models import CallResource, Proposal
from proposals.selectors.completeness import Problem
from proposals.services.editing import (
    GENERAL_FIELDS,
    TECHNICAL_FIELDS,
    EditConflict,
)

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
