"""The form of the team page: the PI invites a co-investigator by email."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.fields import EmailAddressField


class TeamInviteForm(forms.Form):
    email = EmailAddressField(
        label=_("Email address of the co-investigator"),
        help_text=_(
            "They get an email with a link to accept or decline. Someone without an Allot "
            "account signs up with this address first."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
