"""ORCID iDs: parse what people paste (a bare iD or an orcid.org URL) into the canonical form."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ORCID_PATTERN = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:sandbox\.)?orcid\.org/", re.IGNORECASE)


def orcid_check_digit(base_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(value: str) -> str:
    """``0000-0002-1825-0097`` from a bare iD, one without dashes, or an orcid.org URL.

    Raises ValidationError with a message that says what is wrong: the shape or the check digit.
    An empty value stays empty (the iD is optional).
    """
    text = (value or "").strip()
    if not text:
        return ""
    text = _URL_PREFIX.sub("", text).strip("/ ").upper().replace(" ", "")
    if re.fullmatch(r"\d{15}[\dX]", text):
        text = "-".join(text[i : i + 4] for i in range(0, 16, 4))
    if not ORCID_PATTERN.match(text):
        raise ValidationError(
            _(
                "Enter an ORCID iD as four groups of four digits, like 0000-0002-1825-0097 "
                "(the last character may be X), or paste your https://orcid.org/… link."
            ),
            code="orcid_format",
        )
    digits = text.replace("-", "")
    if orcid_check_digit(digits[:15]) != digits[15]:
        raise ValidationError(
            _(
                "%(orcid)s is not a valid ORCID iD: its last character does not match the "
                "others. Please check it for a typo."
            ),
            code="orcid_checksum",
            params={"orcid": text},
        )
    return text
