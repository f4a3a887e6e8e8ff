"""The editor of each section of a proposal: general, resources and technical data, each a
``SectionEditor`` (``section_editor``) with its form, its saved values and what it shows."""

from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext
from django_countries import countries

from accounts.enums import ScienceField
from proposals.calls.models import CallResource
from proposals.submission.enums import ProposalSection
from proposals.submission.forms.proposal import (
    MAX_SCALING_ROWS,
    GeneralForm,
    ResourcesForm,
    TechnicalForm,
    amount_field_name,
    grouped_number,
    justification_field_name,
    plain_number,
    scaling_formset_class,
)
from proposals.submission.forms.section_editor import (
    FieldView,
    SectionEditor,
    SummaryItem,
)
from proposals.submission.models import GENERAL_FIELDS, TECHNICAL_FIELDS, Proposal


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

    def entered_value(self, name: str) -> Any:
        # The amount as typed: an empty one was not changed, though a justification typed
        # beside it would save it as 0.
        return self.form.cleaned_data.get(name)

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

    def _put_saved(
        self, data: QueryDict, names: Collection[str], saved: Mapping[str, Any]
    ) -> QueryDict:
        """Their table, when taken, replaces every typed row (one empty row after it)."""
        data = super()._put_saved(data, names, saved)
        if "scaling" not in names:
            return data
        for key in [key for key in data if key.startswith(f"{self.prefix}-")]:
            del data[key]
        rows = saved["scaling"]
        data[f"{self.prefix}-TOTAL_FORMS"] = str(min(len(rows) + 1, MAX_SCALING_ROWS))
        data[f"{self.prefix}-INITIAL_FORMS"] = "0"
        for index, (gpus, seconds) in enumerate(rows):
            data[f"{self.prefix}-{index}-gpus"] = str(gpus)
            data[f"{self.prefix}-{index}-seconds_per_step"] = plain_number(seconds)
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
