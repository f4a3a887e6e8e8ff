"""The call managers' forms on allocations: the list's filters, the ledger adjustment and the
members' cluster logins.

(The researchers' forms are in ``forms_researcher.py``.)
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.fields import FreeTextField, NameField
from allocations.models import Allocation, Resource
from allocations.selectors.manage import LOW_PRIORITY, Period
from proposals.calls.models import Call


class AllocationFilter(forms.Form):
    """Call, resource, state, under-use. An invalid value is reported beside its filter and
    that filter left out."""

    call = forms.ModelChoiceField(
        label=_("Call"), required=False, queryset=Call.objects.none(), empty_label=_("Any call")
    )
    resource = forms.ModelChoiceField(
        label=_("Resource"),
        required=False,
        queryset=Resource.objects.none(),
        empty_label=_("Any resource"),
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("Any state")),
            *Period.LABELS.items(),
            (LOW_PRIORITY, _("Low priority this month")),
        ],
    )
    under_use = forms.IntegerField(
        label=_("Used less than (%)"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_("Of what was due so far: the monthly shares of the months begun."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # EXISTS, not a join made DISTINCT: a join reads every proposal and allocation.
        with_allocations = Allocation.objects.filter(proposal__call=OuterRef("pk"))
        self.fields["call"].queryset = Call.objects.filter(Exists(with_allocations)).order_by(
            "-opens_at"
        )
        self.fields["resource"].queryset = Resource.objects.order_by("name")

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.manager_allocations``; the valid filters only."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "call": data.get("call"),
            "resource": data.get("resource"),
            "state": data.get("state") or "",
            "under_use": data.get("under_use"),
        }


class AdjustmentForm(forms.Form):
    """An adjustment of one of the allocation's resources: more (positive) or fewer hours."""

    resource = forms.ModelChoiceField(label=_("Resource"), queryset=Resource.objects.none())
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Positive to add, negative to take away, in the resource's unit."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    reason = FreeTextField(
        label=_("Reason"),
        max_length=2000,
        help_text=_("Kept in the ledger and the audit trail."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, resources: list[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resource"]
        field.queryset = Resource.objects.filter(pk__in=[r.pk for r in resources]).order_by("name")
        if len(resources) == 1:
            field.initial = resources[0].pk

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Enter an amount other than zero."))
        return amount


class ClusterLoginForm(forms.Form):
    """A member's login name on one of the allocation's clusters (PRODUCT §8); empty removes
    it. The service checks the name and that nobody else has it on the cluster."""

    member = forms.TypedChoiceField(label=_("Member"), coerce=int)
    cluster = forms.ChoiceField(label=_("Cluster"))
    login = NameField(
        label=_("Login name"),
        max_length=32,
        required=False,
        help_text=_(
            "The person's user name on the cluster, as the centre's user administration has it."
            " Leave empty to remove it."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, members: list[tuple[int, str]], clusters: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = members  # type: ignore[attr-defined]
        self.fields["cluster"].choices = [(c, c) for c in clusters]  # type: ignore[attr-defined]
