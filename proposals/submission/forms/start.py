"""Starting a proposal (PRODUCT §4.2, §8): a new project, or the continuation of one of the
PI's allocations (the choices come from ``proposals.calls.hooks.continuable``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.calls.hooks import Continuable


class ProposalStartForm(forms.Form):
    continues = forms.TypedChoiceField(
        label=_("Start from"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("You can continue only an allocation of your own.")},
    )

    def __init__(self, *args, choices: list[Continuable], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["continues"].choices = [  # type: ignore[attr-defined]
            ("", _("A new project")),
            *((c.proposal_id, c.label) for c in choices),
        ]
