from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.enums import MessageStatus


class OutboxFilterForm(forms.Form):
    """The GET filters above the outbox list."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *MessageStatus.choices],
        required=False,
    )
    q = forms.CharField(
        label=_("Recipient or event"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
