from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.fields import NameField
from notifications.enums import MessageStatus


class OutboxFilterForm(forms.Form):
    """The GET filters above the outbox list."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *MessageStatus.choices],
        required=False,
    )
    q = NameField(
        label=_("Recipient or event"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
