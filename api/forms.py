from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.fields import NameField
from accounts.models import User
from api.enums import EXPIRY_DAYS, TokenScope
from api.rules import may_choose_scope


def _expiry_label(days: int) -> str:
    """Read when the form is built, so in the reader's language."""
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


class TokenForm(forms.Form):
    name = NameField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “accounting sync on jupiter”."),
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices)
    days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        choices=lambda: [(days, _expiry_label(days)) for days in EXPIRY_DAYS],
        initial=90,
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [
            (value, label) for value, label in TokenScope.choices if may_choose_scope(user, value)
        ]
