"""The profile form: parsing and checking what a person types about themselves."""

import re
import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.enums import ScienceField
from accounts.fields import FreeTextField, NameField
from accounts.models import User
from accounts.orcid import normalise_orcid
from accounts.selectors import orcid_taken
from accounts.text import refuse_unsafe_name

MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 50
# What the keywords box takes at most: room for a few too many, refused by count.
KEYWORDS_TEXT_MAX_LENGTH = 2000

# Regions of the IANA database worth offering; the rest are aliases kept for old systems.
_TIME_ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
EXPERTISE_DOMAINS = (
    ("PE", _("Physical Sciences and Engineering")),
    ("LS", _("Life Sciences")),
    ("SH", _("Social Sciences and Humanities")),
)


@cache
def _time_zone_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    names = zoneinfo.available_timezones()
    groups = []
    for region in _TIME_ZONE_REGIONS:
        zones = sorted(name for name in names if name.startswith(f"{region}/"))
        # "Berlin (Europe)": typing the city's first letters in the closed select finds it.
        labels = tuple(
            (name, f"{name.split('/', 1)[1].replace('_', ' ')} ({region})") for name in zones
        )
        groups.append((region, labels))
    return (("UTC", (("UTC", "UTC"),)), *groups)


def time_zone_choices(current: str = "") -> list:
    """Time zones grouped by region for a select (type "Ber" to reach Berlin); "" follows the
    browser. A zone saved earlier that is no longer offered stays selectable."""
    choices: list = [("", _("Follow my browser's time zone"))]
    choices.extend((region, list(zones)) for region, zones in _time_zone_groups())
    offered = {name for _region, zones in _time_zone_groups() for name, _label in zones}
    if current and current not in offered:
        choices.append((current, current))
    return choices


def parse_keywords(text: str) -> list[str]:
    """Comma-separated keywords → a list: trimmed, inner spaces collapsed, duplicates (ignoring
    case) dropped, the first spelling kept. Semicolons and line breaks separate too."""
    keywords: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;\n]", text or ""):
        keyword = " ".join(part.split())
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            keywords.append(keyword)
    return keywords


def validate_keywords(keywords: list[str]) -> list[str]:
    """Refuse keywords over the length limit, too many of them, or one that is not a visible
    line of text (``accounts.text``); profiles and proposals."""
    for keyword in keywords:
        refuse_unsafe_name(keyword)
    too_long = [keyword for keyword in keywords if len(keyword) > MAX_KEYWORD_LENGTH]
    if too_long:
        raise ValidationError(
            _("Keep each keyword to %(length)d characters or fewer; too long: %(keywords)s."),
            code="keyword_too_long",
            params={"length": MAX_KEYWORD_LENGTH, "keywords": "; ".join(too_long)},
        )
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError(
            _("Give at most %(max)d keywords; you gave %(count)d."),
            code="too_many_keywords",
            params={"max": MAX_KEYWORDS, "count": len(keywords)},
        )
    return keywords


class ProfileForm(forms.Form):
    """What Allot needs to know about a person: for proposals, for reviewer matching, for dates.

    Full name, affiliation, country and at least one field of expertise are required (a
    proposal cannot be started without them); the rest is optional.
    """

    full_name = NameField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As it should appear on your proposals."),
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    affiliation = NameField(
        label=_("Affiliation"),
        max_length=300,
        help_text=_("Your institution, e.g. Forschungszentrum Jülich."),
        error_messages={"required": _("Enter your institution.")},
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        help_text=_("The country of your institution."),
        error_messages={"required": _("Choose the country of your institution.")},
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    orcid = NameField(
        label=_("ORCID iD"),
        required=False,
        max_length=100,
        help_text=_(
            "Optional. Your 16-digit iD, e.g. 0000-0002-1825-0097, or your orcid.org link."
        ),
        widget=forms.TextInput(attrs={"inputmode": "text", "spellcheck": "false"}),
    )
    expertise = forms.MultipleChoiceField(
        label=_("Fields of expertise"),
        choices=ScienceField.choices,
        help_text=_(
            "The ERC panels you work in; choose at least one. "
            "They are used to match proposals with reviewers."
        ),
        error_messages={"required": _("Choose at least one field of expertise.")},
        widget=forms.CheckboxSelectMultiple,
    )
    keywords = FreeTextField(
        label=_("Keywords"),
        required=False,
        max_length=KEYWORDS_TEXT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"spellcheck": "true"}),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Dates are shown in this time zone beside each call's own."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The browser's language")), *settings.LANGUAGES],
        help_text=_("Pages and the emails Allot sends you."),
    )
    notify_new_calls = forms.BooleanField(
        label=_("Email me when a new call opens"),
        required=False,
        help_text=_("One email each time a call for proposals opens."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        self.user = user
        kwargs.setdefault(
            "initial",
            {
                "full_name": user.full_name,
                "affiliation": user.affiliation,
                "country": user.country.code if user.country else "",
                "orcid": user.orcid,
                "expertise": list(user.expertise),
                "keywords": ", ".join(user.keywords),
                "time_zone": user.time_zone,
                "language": user.language,
                "notify_new_calls": user.notify_new_calls,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country")), *countries]
        self.fields["time_zone"].choices = time_zone_choices(user.time_zone)
        self.fields["keywords"].help_text = gettext(
            "Separate them with commas, e.g. protein folding, graph neural networks. "
            "At most %(count)d, each up to %(length)d characters."
        ) % {"count": MAX_KEYWORDS, "length": MAX_KEYWORD_LENGTH}

    def clean_orcid(self) -> str:
        orcid = normalise_orcid(self.cleaned_data["orcid"])
        if orcid_taken(orcid=orcid, exclude_user=self.user):
            raise ValidationError(
                _(
                    "Another Allot account already uses the ORCID iD %(orcid)s. If it is yours, "
                    "sign in to that account or ask the call managers to merge them."
                ),
                code="orcid_taken",
                params={"orcid": orcid},
            )
        return orcid

    def clean_keywords(self) -> list[str]:
        return validate_keywords(parse_keywords(self.cleaned_data["keywords"]))

    def expertise_groups(self) -> list[tuple[str, str, list]]:
        """The expertise checkboxes by ERC domain, as (code, legend, options) for the template."""
        options = list(self["expertise"])
        return [
            (
                prefix,
                legend,
                [
                    option
                    for option in options
                    if option.data["value"].rstrip("0123456789") == prefix
                ],
            )
            for prefix, legend in EXPERTISE_DOMAINS
        ]
