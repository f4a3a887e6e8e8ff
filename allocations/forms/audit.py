"""The audit trail's filters (PRODUCT §9): call, kind of action, person, dates."""

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.fields import EmailAddressField
from accounts.models import User
from allocations.selectors.audit import AuditFilters
from proposals.calls.enums import AuditAction
from proposals.calls.models import Call


class AuditFilter(forms.Form):
    """Narrows the trail. An invalid value is reported beside its field and that filter left
    out; the rest still apply."""

    call = forms.ModelChoiceField(
        label=_("Call"), required=False, queryset=Call.objects.none(), empty_label=_("Any call")
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *AuditAction.choices]
    )
    person = EmailAddressField(
        label=_("Person"),
        required=False,
        help_text=_("Their email address: what they did, and what was done about them."),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        help_text=_("Both days included, in your time zone."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["call"].queryset = Call.objects.order_by("-opens_at", "code")  # type: ignore[attr-defined]

    def clean_person(self) -> User | None:
        email = self.cleaned_data.get("person")
        if not email:
            return None
        person = User.objects.filter(email__iexact=email).first()
        if person is None:
            raise forms.ValidationError(_("No account has this email address."))
        return person

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The last day comes before the first."))
        return data

    def filters(self, zone: zoneinfo.ZoneInfo) -> AuditFilters:
        """The valid filters, with days read in ``zone``."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return AuditFilters(
            call=data.get("call"),
            action=data.get("action") or "",
            person=data.get("person"),
            since=data.get("since"),
            until=data.get("until") if "until" not in self.errors else None,
            zone=zone,
        )
