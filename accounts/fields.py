"""The form fields for text that every app's forms use (the rules are in ``accounts.text``).

- ``FreeTextField``: a comment, a justification, a description. Line breaks count once; no
  control character; a length limit is required.
- ``NameField``: a name, title, acronym, code or short answer on one line. Spaces folded; no
  control or direction character; not only invisible characters; a length limit is required.
- ``EmailAddressField``: at most 254 characters, at most 64 before the @, no control or
  direction character.

Every refusal is a message beside the field, and the form shows again what was typed.
``tests/accounts/test_text_fields.py`` checks that every text field of every form is one of
these.
"""

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from accounts.text import (
    one_line,
    refuse_control_characters,
    refuse_long_local_part,
    refuse_unsafe_name,
)

EMAIL_MAX_LENGTH = 254
TOO_LONG = _("Keep this to %(limit_value)s characters or fewer; it has %(show_value)s.")


def _without_null_check(validators: list) -> list:
    """Django's own NUL check says "Null characters are not allowed."; ours name the
    character and say what to do, so Django's is left out."""
    return [v for v in validators if not isinstance(v, ProhibitNullCharactersValidator)]


class _LimitedTextField(forms.CharField):
    """A ``CharField`` that must be given ``max_length``, says so plainly when it is passed,
    and leaves NUL to this project's own check (whose message names the character)."""

    text_validators: tuple = ()

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        if max_length is None:
            raise TypeError(f"{type(self).__name__} needs a max_length.")
        kwargs["error_messages"] = {"max_length": TOO_LONG, **kwargs.get("error_messages", {})}
        super().__init__(max_length=max_length, **kwargs)
        self.validators = [*self.text_validators, *_without_null_check(self.validators)]


class FreeTextField(_LimitedTextField):
    """Text of several lines. Browsers send "\\r\\n" for each line break, which would make a
    2,000-character abstract that fits the box fail the limit on the server: it counts once."""

    text_validators = (refuse_control_characters,)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class NameField(_LimitedTextField):
    """One line of visible text, its spaces folded: a name, a title, a code."""

    text_validators = (refuse_unsafe_name,)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        # A line break or tab inside is refused with its message, not folded away.
        if any(c in value for c in "\n\r\t"):
            return value
        return one_line(value)


class EmailAddressField(forms.EmailField):
    """An email address: at most 254 characters, at most 64 of them before the @."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        kwargs["error_messages"] = {"max_length": TOO_LONG, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)
        self.validators = [
            refuse_unsafe_name,
            *_without_null_check(self.validators),
            refuse_long_local_part,
        ]
