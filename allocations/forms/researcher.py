"""Forms of a researcher's allocation pages: members, requests for more, the final report, and
the manager's answer to a request. The services check what the forms cannot (who may act,
one pending request of each kind, the upload window)."""

from django import forms
from django.forms.utils import ErrorDict
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.fields import EmailAddressField, FreeTextField
from allocations.enums import RequestKind
from allocations.models import Allocation, Resource


class MemberAddForm(forms.Form):
    email = EmailAddressField(
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy(
            "The confirmed address of their Allot account. They can run jobs on the account "
            "once the centre has synchronised the cluster."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class AllocationRequestForm(forms.Form):
    """More hours on one resource, or a later end date, with a reason."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What do you need?"),
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        initial=RequestKind.MORE_HOURS,
    )
    resource = forms.ModelChoiceField(
        label=gettext_lazy("Resource"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=None,
        help_text=gettext_lazy("For more hours: the resource."),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Additional amount"),
        required=False,
        min_value=1,
        max_digits=14,
        decimal_places=2,
        help_text=gettext_lazy("For more hours: how much more, in the resource's unit."),
    )
    new_end = forms.DateField(
        label=gettext_lazy("New end date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("For a longer period: the day the period should end."),
    )
    reason = FreeTextField(
        label=gettext_lazy("Reason"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Why you need it: what happened, what the extra time will achieve. Call managers "
            "decide on this text."
        ),
    )

    def __init__(self, *args, allocation: Allocation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = Resource.objects.filter(
            pk__in=allocation.resources.values("resource")
        ).order_by("name")
        self.fields["resource"].label_from_instance = lambda r: f"{r.name} ({r.unit})"

    def clean(self):
        data = super().clean()
        if data.get("kind") == RequestKind.MORE_HOURS:
            if not data.get("resource") and "resource" not in self.errors:
                self.add_error("resource", _("Choose the resource you need more of."))
            if data.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", _("Say how much more you need."))
        elif (
            data.get("kind") == RequestKind.EXTENSION
            and data.get("new_end") is None
            and "new_end" not in self.errors
        ):
            self.add_error("new_end", _("Choose the new end date."))
        return data


class RequestDecisionForm(forms.Form):
    """A call manager's answer: approve or decline, with a note (needed to decline)."""

    APPROVE, DECLINE = "approve", "decline"

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(APPROVE, gettext_lazy("Approve")), (DECLINE, gettext_lazy("Decline"))],
        widget=forms.RadioSelect,
    )
    note = FreeTextField(
        label=gettext_lazy("Note to the PI"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Needed to decline; the PI reads it in the email."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.DECLINE and not data.get("note", "").strip():
            self.add_error("note", _("Say why the request is declined; the PI reads this."))
        return data


class FinalReportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Final report (PDF)"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, max_bytes: int, too_large: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.fields["file"].help_text = _(
            "A PDF without a password, at most %(size)s; its content is checked, not its name."
        ) % {"size": filesizeformat(max_bytes)}
        if too_large:
            # The file was skipped on arrival; say why instead of "This field is required."
            self.fields["file"].required = False

    def too_large_message(self) -> str:
        return _("The file is larger than %(limit)s, the most a final report may be.") % {
            "limit": filesizeformat(self.max_bytes)
        }

    def refuse_unread(self) -> None:
        """Show the size refusal on a request whose body was never read."""
        self.cleaned_data = {}
        self._errors = ErrorDict(
            {"file": self.error_class([self.too_large_message()], renderer=self.renderer)}
        )

    def clean_file(self):
        if self.too_large:
            raise forms.ValidationError(self.too_large_message(), code="too_large")
        return self.cleaned_data.get("file")
