"""The committee's decisions form (one page of the ranking) and the waitlist's promote form.

Fields are named by proposal and call resource ids (``outcome-<proposal>``,
``amount-<proposal>-<resource>``, ``message-<proposal>``), so a value always lands on the
proposal it was typed for even when the ranking moved in between. A row whose outcome field
was not posted at all (it was not on the page the manager saw) is left alone.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import widgets
from accounts.fields import FreeTextField
from accounts.formatting import amount as format_amount
from proposals.calls.models import Call, CallResource
from proposals.decisions.enums import AWARDING, DecisionOutcome
from proposals.decisions.selectors.deciding import AmountCell, DecisionRow, ShownDecision
from proposals.decisions.services.saving import DecisionData
from proposals.submission.models import Proposal

MESSAGE_MAX = 5000
UNDECIDED_LABEL = gettext_lazy("Not decided yet")


def _outcome_key(proposal_id: int) -> str:
    return f"outcome-{proposal_id}"


def _amount_key(proposal_id: int, offer_id: int) -> str:
    return f"amount-{proposal_id}-{offer_id}"


def _message_key(proposal_id: int) -> str:
    return f"message-{proposal_id}"


def _amount_field(label: str, initial: Decimal | None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        initial=initial,
        widget=widgets.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


def _initial_amount(shown: ShownDecision, cell: AmountCell) -> Decimal | None:
    """An award shows its amount (0 included: re-saving must not change it); otherwise the
    default, ready for when the outcome becomes an award."""
    if shown.outcome in AWARDING:
        return cell.shown if cell.shown is not None else Decimal(0)
    return cell.default or None


def _number(raw: object) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and value >= 0 else None


def shown_from_post(data) -> dict[int, ShownDecision]:
    """What a posted decisions form holds, read leniently (what does not parse is left out),
    for the running totals of the page that shows it again."""
    shown: dict[int, ShownDecision] = {}
    for key in data:
        if not key.startswith("outcome-") or not key[8:].isdigit():
            continue
        proposal_id = int(key[8:])
        outcome = data.get(key, "")
        amounts: dict[int, Decimal] = {}
        prefix = f"amount-{proposal_id}-"
        for name in data:
            if name.startswith(prefix) and name[len(prefix) :].isdigit():
                value = _number(data.get(name, ""))
                if value is not None:
                    amounts[int(name[len(prefix) :])] = value
        shown[proposal_id] = ShownDecision(
            outcome=outcome if outcome in DecisionOutcome.values else "",
            amounts=amounts,
            message=data.get(_message_key(proposal_id), ""),
        )
    return shown


@dataclass(frozen=True)
class RowFields:
    """One row of the form as the template draws it."""

    row: DecisionRow
    outcome: forms.BoundField
    amounts: list[tuple[AmountCell, forms.BoundField]]
    message: forms.BoundField


class DecisionsForm(forms.Form):
    """The decisions of the rows of one page: an outcome, an amount per resource (empty: the
    default, the request capped by the technical recommendation) and a message each."""

    def __init__(self, *args, rows: list[DecisionRow], offers: list[CallResource], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.offers = offers
        choices = [("", UNDECIDED_LABEL), *DecisionOutcome.choices]
        for row in rows:
            pid = row.proposal_id
            reference = row.ranking.reference
            self.fields[_outcome_key(pid)] = forms.ChoiceField(
                label=_("Decision on %(proposal)s") % {"proposal": reference},
                choices=choices,
                required=False,
                initial=row.shown.outcome,
                widget=widgets.Select,
            )
            for cell in row.cells:
                self.fields[_amount_key(pid, cell.offer.pk)] = _amount_field(
                    _("%(resource)s (%(unit)s) for %(proposal)s")
                    % {
                        "resource": cell.offer.resource.name,
                        "unit": cell.offer.resource.unit,
                        "proposal": reference,
                    },
                    _initial_amount(row.shown, cell),
                )
            self.fields[_message_key(pid)] = FreeTextField(
                label=_("Message to the applicant of %(proposal)s") % {"proposal": reference},
                required=False,
                max_length=MESSAGE_MAX,
                initial=row.shown.message or "",
                widget=widgets.Textarea(attrs={"rows": 2, "cols": 30}),
            )

    @property
    def posted_rows(self) -> list[DecisionRow]:
        """The rows whose outcome field came with the form."""
        if not self.is_bound:
            return []
        return [row for row in self.rows if _outcome_key(row.proposal_id) in self.data]

    def clean(self):
        cleaned = super().clean()
        for row in self.posted_rows:
            pid = row.proposal_id
            outcome = cleaned.get(_outcome_key(pid))
            if outcome is None:
                continue
            if outcome == "" and row.saved is not None:
                self.add_error(
                    _outcome_key(pid),
                    _("A saved decision cannot be removed; choose one of the decisions."),
                )
                continue
            if outcome not in AWARDING:
                continue
            total = Decimal(0)
            unreadable = False
            for cell in row.cells:
                key = _amount_key(pid, cell.offer.pk)
                if key not in cleaned:
                    unreadable = True  # The field has its own error already.
                    continue
                value = cleaned[key]
                value = cell.default if value is None else value
                if value > cell.offer.max_request:
                    self.add_error(
                        key,
                        _("At most %(max)s %(unit)s can be awarded to one proposal.")
                        % {
                            "max": format_amount(cell.offer.max_request),
                            "unit": cell.offer.resource.unit,
                        },
                    )
                total += value
            if total <= 0 and not unreadable:
                self.add_error(
                    _outcome_key(pid), _("An award needs an amount of at least one resource.")
                )
        return cleaned

    def decisions(self, *, proposals: dict[int, Proposal]) -> list[DecisionData]:
        """The posted rows with a decision, for ``decisions_save``; call after ``is_valid``.
        ``proposals``: the call's proposals by id (``proposals_by_id``)."""
        result = []
        for row in self.posted_rows:
            pid = row.proposal_id
            outcome = self.cleaned_data.get(_outcome_key(pid))
            if not outcome or pid not in proposals:
                continue
            amounts = {}
            for cell in row.cells:
                value = self.cleaned_data.get(_amount_key(pid, cell.offer.pk))
                if value is not None:
                    amounts[cell.offer.pk] = value
            result.append(
                DecisionData(
                    proposal=proposals[pid],
                    outcome=outcome,
                    amounts=amounts,
                    message=self.cleaned_data.get(_message_key(pid), ""),
                )
            )
        return result

    def row_fields(self) -> list[RowFields]:
        return [
            RowFields(
                row=row,
                outcome=self[_outcome_key(row.proposal_id)],
                amounts=[
                    (cell, self[_amount_key(row.proposal_id, cell.offer.pk)]) for cell in row.cells
                ],
                message=self[_message_key(row.proposal_id)],
            )
            for row in self.rows
        ]

    def error_links(self) -> list[tuple[str, str]]:
        """Each field error with the id of its field, for the summary at the top."""
        return [
            (self[name].auto_id, f"{self.fields[name].label}: {error}")
            for name, errors in self.errors.items()
            if name in self.fields
            for error in errors
        ]


class PromoteForm(forms.Form):
    """The amounts awarded to a waitlisted proposal (empty: its default)."""

    def __init__(self, *args, row: DecisionRow, remaining: dict[int, Decimal], **kwargs):
        kwargs.setdefault("prefix", f"promote-{row.proposal_id}")
        super().__init__(*args, **kwargs)
        self.row = row
        for cell in row.cells:
            if cell.default <= 0 and cell.requested is None:
                continue
            left = max(remaining.get(cell.offer.pk, Decimal(0)), Decimal(0))
            self.fields[f"amount-{cell.offer.pk}"] = _amount_field(
                _("%(resource)s (%(unit)s) for %(proposal)s")
                % {
                    "resource": cell.offer.resource.name,
                    "unit": cell.offer.resource.unit,
                    "proposal": row.ranking.reference,
                },
                min(cell.default, left),
            )

    def amounts(self) -> dict[int, Decimal | None]:
        """By call resource id; call after ``is_valid``. A resource without a field (the
        proposal did not ask for it) gets nothing."""
        result: dict[int, Decimal | None] = {cell.offer.pk: Decimal(0) for cell in self.row.cells}
        for name, value in self.cleaned_data.items():
            result[int(name.removeprefix("amount-"))] = value
        return result


class StatisticsFilter(forms.Form):
    """The statistics page's choice: one call, or every call."""

    call = forms.ModelChoiceField(
        label=gettext_lazy("Call"),
        required=False,
        queryset=Call.objects.order_by("-opens_at", "code"),
        empty_label=gettext_lazy("Every call"),
    )


class PublishForm(forms.Form):
    """The confirm step of publishing: the manager's reason, needed when publishing before the
    review due date or with reviews missing (PRODUCT §6), and kept in the audit trail."""

    reason = FreeTextField(
        label=gettext_lazy("Reason for publishing now"),
        max_length=2000,
        required=False,
        help_text=gettext_lazy(
            "Needed when the review due date is still ahead or reviews are missing; kept in "
            "the audit trail."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
