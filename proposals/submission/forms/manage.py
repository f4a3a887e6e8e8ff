"""The filters of the call managers' list of proposals."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.enums import ScienceField
from proposals.calls.models import CallResource
from proposals.submission.enums import ProposalStatus
from proposals.submission.selectors.manage import ALL_STATUSES, NOT_DRAFTS


class CallProposalFilter(forms.Form):
    """Status (by default everything but drafts), field of science, requested resource.

    A value that is not on offer is reported beside its filter and that filter left out.
    """

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (NOT_DRAFTS, _("Everything but drafts")),
            (ALL_STATUSES, _("Everything, drafts included")),
            *ProposalStatus.choices,
        ],
    )
    field = forms.ChoiceField(
        label=_("Field of science"),
        required=False,
        choices=[("", _("Any field")), *ScienceField.choices],
    )
    resource = forms.TypedChoiceField(
        label=_("Requests the resource"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, offers: list[CallResource], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offers = {offer.pk: offer for offer in offers}
        self.fields["resource"].choices = [
            ("", _("Any resource")),
            *((offer.pk, offer.resource.name) for offer in offers),
        ]

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.manage.call_proposals``; defaults where invalid."""
        data = self.cleaned_data if self.is_valid() else getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or NOT_DRAFTS,
            "field": data.get("field") or "",
            "offer": self.offers.get(data.get("resource")),
        }
