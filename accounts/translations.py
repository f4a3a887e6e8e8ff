"""Strings that Django or allauth show on our pages and whose own German or Korean catalogue
lacks them (Django 6's empty choice, for one). Listed here so that ``makemessages`` puts them in
our catalogue, which is read before the libraries' (``LOCALE_PATHS``). Nothing imports this."""

from django.utils.translation import gettext_noop

LIBRARY_STRINGS = (
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
)
