"""What people may type: the checks every form of every app applies to text (issue 11).

Each check raises a ``ValidationError`` whose message a person can act on, shown beside the
field that holds the text; the form keeps what was typed. ``accounts.fields`` builds them into
the form fields every app uses.

- Control characters (NUL, which PostgreSQL cannot store in text, and every other C0 or C1
  control but tab and line breaks in free text) are refused everywhere.
- Names, titles, acronyms and codes are one line of visible text: no line break, tab or
  control character, no bidirectional override, embedding or isolate (U+202A–U+202E,
  U+2066–U+2069, which make text read differently from how it is stored), and not only
  invisible characters (spaces, zero-width spaces, joiners, fillers).
- An email address's local part (before the @) has at most 64 characters (RFC 5321).
"""

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EMAIL_LOCAL_PART_MAX = 64

# Allowed in free text (a comment, a justification); refused in a name.
LINE_CHARACTERS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Letters that draw nothing, which unicodedata files under "Lo" or "So" rather than as format
# characters: Hangul fillers, the braille blank.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _character_name(character: str) -> str:
    """``U+0000`` and, where Unicode has one, its name: how a message points at a character
    nobody can see."""
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{code} {name}" if name else code


def _is_control(character: str) -> bool:
    return unicodedata.category(character) in {"Cc", "Cs"}


def _is_invisible(character: str) -> bool:
    return (
        character.isspace()
        or unicodedata.category(character) in {"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"}
        or character in BLANK_LETTERS
    )


def _refusal(message, code: str, character: str = "") -> ValidationError:
    params = {"character": _character_name(character)} if character else None
    return ValidationError(message, code=code, params=params)


def _first_control(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    return next((c for c in value if _is_control(c) and c not in allowed), None)


def refuse_control_characters(value: str) -> None:
    """Free text: refuse a control character other than tab and line breaks."""
    found = _first_control(value, allowed=LINE_CHARACTERS)
    if found is not None:
        raise _refusal(
            _(
                "Remove the invisible control character %(character)s from this text: it "
                "cannot be stored."
            ),
            "control_character",
            found,
        )


def refuse_unsafe_name(value: str) -> None:
    """A name, title, acronym or code: one line, no control or direction character, and at
    least one visible character (an empty value is left to ``required``)."""
    found = _first_control(value)
    if found in LINE_CHARACTERS:
        raise _refusal(
            _("Keep this to one line, without line breaks or tabs."), "control_character"
        )
    if found is not None:
        raise _refusal(
            _("Remove the invisible control character %(character)s: it cannot be stored."),
            "control_character",
            found,
        )
    found = next((c for c in value if c in BIDI_CONTROLS), None)
    if found is not None:
        raise _refusal(
            _(
                "Remove the text direction character %(character)s: it makes the text read "
                "differently from how it is stored."
            ),
            "bidi_control",
            found,
        )
    if value and all(_is_invisible(c) for c in value):
        raise _refusal(
            _("Use visible letters or digits: this holds only invisible characters."),
            "invisible",
        )


def refuse_long_local_part(value: str) -> None:
    """An email address whose part before the @ is longer than 64 characters."""
    local = value.rpartition("@")[0]
    if len(local) > EMAIL_LOCAL_PART_MAX:
        raise ValidationError(
            _("The part before the @ can have at most %(max)d characters; this one has %(count)d."),
            code="local_part_too_long",
            params={"max": EMAIL_LOCAL_PART_MAX, "count": len(local)},
        )


def one_line(value: str) -> str:
    """Spaces at the ends dropped and runs of them inside folded to one."""
    return " ".join(value.split())


def has_control_character(value: str) -> bool:
    return _first_control(value) is not None


def without_nul(data: Any) -> Any:
    """``data`` (text, or JSON-like lists and dicts of it) without NUL characters, which
    PostgreSQL stores in neither text nor JSON."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, dict):
        return {without_nul(key): without_nul(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [without_nul(value) for value in data]
    return data


def safe_name(value: str) -> str:
    """A name from elsewhere (an identity provider), where nobody can be asked to fix it:
    control and direction characters dropped, one line, "" when nothing visible is left."""
    kept = one_line(
        "".join(
            c for c in value if c in LINE_CHARACTERS or not (_is_control(c) or c in BIDI_CONTROLS)
        )
    )
    return "" if all(_is_invisible(c) for c in kept) else kept
