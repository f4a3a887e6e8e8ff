"""Text normalised for comparison: affiliations, people's names, lines of free text.

Used by conflict detection (PRODUCT §5.1) to decide that "Forschungszentrum Jülich GmbH" and
"forschungszentrum juelich" are the same institution. The results are comparison keys, never
shown to anyone: they may look odd ("universitat"), as long as both sides are treated alike.
"""

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter and an accent.
_LIGATURES = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "þ": "th"}
)
# Dropped without a space, so "e.V." is "ev" and "King's" is "kings".
_JOINING = re.compile(r"[.'’`´]")
# Everything else that is not a letter or a digit separates words ("Max-Planck-Institut").
_SEPARATING = re.compile(r"[\W_]+")
# German umlauts written out: "Juelich" is "Jülich" is "Julich". After a letter other than
# q, so "Queen" and "Polytechnique" keep theirs. Both sides of a comparison are folded alike,
# so an odd key for a word that is not German ("Israel" → "isral") does no harm.
_UMLAUT_DIGRAPHS = re.compile(r"(?<=[a-pr-z])([aou])e")
# Legal forms that say nothing about which institution it is.
_LEGAL_FORMS = frozenset({"gmbh", "ggmbh", "mbh", "ev", "ag", "inc", "ltd", "llc", "plc"})


def _plain_words(text: str) -> list[str]:
    """Case-folded words without accents or punctuation."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    unaccented = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SEPARATING.sub(" ", _JOINING.sub("", unaccented)).split()


def normalise_text(text: str) -> str:
    """Case-folded, without accents or punctuation, single spaces: "Dr. José  O'Neil" →
    "dr jose oneil". For people's names and lines of free text."""
    return " ".join(_plain_words(text))


def normalise_affiliation(text: str) -> str:
    """The comparison key of an institution's name.

    Case-folded; accents removed (ü → u); written-out umlauts folded (ue → u, oe → o, ae → a
    after a letter but q); punctuation removed (dots and apostrophes join, anything else separates
    words); legal forms (GmbH, e.V., Inc., …) dropped; single spaces. "" for a blank name.

    >>> normalise_affiliation("Forschungszentrum Juelich, GmbH")
    'forschungszentrum julich'
    """
    words = [_UMLAUT_DIGRAPHS.sub(r"\1", word) for word in _plain_words(text)]
    return " ".join(word for word in words if word not in _LEGAL_FORMS)
