"""German and Korean throughout (issue 14, point 2): every page of the URL conf, walked as every
persona with the browser asking for ``de`` and then ``ko``, carries no English text of the app.

What people typed (titles, names, comments: every text column of the database) and the words
that stay as they are in every language (ALWAYS_AS_IS) are taken out first; what is left is
looked through for English:

- on a Korean page, every word in Latin letters is English (Korean writes none of its own);
- on a German page, the English words that are not also German words (ENGLISH_ONLY).

A string the catalogue leaves untranslated, a template text nobody marked for translation and
an English string from a library all fail here, with the page and the text it sits in.
"""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import translation

from tests.test_url_walk_personas import NOT_WALKED, PERSONAS, build_world, clients
from tests.url_walk import app_urls

pytestmark = pytest.mark.django_db

# Names, units, formats and technical words that every language writes as English does.
ALWAYS_AS_IS = {
    "allot",
    "gpu",
    "gpus",
    "cpu",
    "cpus",
    "orcid",
    "api",
    "csv",
    "xlsx",
    "excel",
    "pdf",
    "slurm",
    "jupiter",
    "eurohpc",
    "openid",
    "connect",
    "url",
    "html",
    "json",
    "utc",
    "totp",
    "oidc",
    "sacct",
    "gres",
    "tres",
    "billing",
    "h",
    "cet",
    "cest",
    "kst",
    "gmt",
    "ok",
    "id",
    "pi",
    "e-mail",
    "email",
    "ai",
    "hpc",
    "gpu-h",
    "www",
    "https",
    "http",
    "min",
    "max",
    "no",
    "v",
    "kb",
    "mb",
    "mib",
    "gb",
    "tb",
    "bearer",
    "token",
    "github",
    "markdown",
    "de",
    "ko",
    "en",
    "english",
    "deutsch",
    "cluster",
    "login",
    "logins",
    "budget",
    "manager",
    "team",
    # names and examples kept as they are: ERC panels, the sample acronym, software, apps
    "erc",
    "sparse",
    "moe",
    "pytorch",
    "megatron",
    "lm",
    "org",
    "sync",
    "qr",
    "freeotp",
    "aegis",
    "microsoft",
    "google",
    "authenticator",
}
# English words a German page must not carry (words German writes too, such as "in", "was",
# "will", "die", "also", "man", "hat", "so", "am", "um", "filter", "status", "name", "team",
# "optional" or "last" (the load), are left out).
_ENGLISH_WORDS = """
    the and your you yours is are of for with this that these those not has have been which
    there their they them when who whom whose each only must should would could yet none
    here please before after until while about above below between into onto than then what
    where why how yes all any some every other more most less least one two three submit
    submitted save saved cancel edit delete deleted back next previous sign signed search
    review reviews reviewer reviewers proposal proposals call calls deadline draft drafts
    award awarded awards used left days hours day hour week weeks month months year years
    open opened closed close decision decisions publish published accept accepted decline
    declined invitation invitations conflict conflicts committee request requests report
    reports usage resource resources member members account accounts password forgot
    remember new add remove change changed show hide view settings profile language home
    help contact page pages first none yet still already soon now today tomorrow
    yesterday ago missing required error errors"""
ENGLISH_ONLY = set(_ENGLISH_WORDS.split())
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
LATIN_RUN = re.compile(r"[A-Za-z]+")
# Lists whose options are names as others write them: the time zones as the IANA database does
# ("Europe/Berlin"), the countries as django-countries' own catalogue does ("Isle of Man").
NAMED_LISTS = {"time_zone", "tz", "country", "pi_country", "countries"}
SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description"}


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes outside scripts and styles, the labelling
    attributes, and the values of buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0
        self._zones = False
        self.lang = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        if tag in {"script", "style", "template"}:
            self._hidden += 1
        if tag == "select":
            # the time zones' names as the IANA database writes them ("Europe/Berlin"), and
            # the countries' names from django-countries' own catalogue ("Isle of Man")
            self._zones = attributes.get("name") in {
                "time_zone",
                "tz",
                "country",
                "pi_country",
                "countries",
            }
        for name in SHOWN_ATTRIBUTES & attributes.keys():
            self.pieces.append(attributes[name] or "")
        if tag == "input" and attributes.get("type") in {"submit", "button", "reset"}:
            self.pieces.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"} and self._hidden:
            self._hidden -= 1
        if tag == "select":
            self._zones = False

    def handle_data(self, data):
        if not self._hidden and not self._zones and data.strip():
            self.pieces.append(data)


def typed_by_people() -> list[str]:
    """Every text value stored in the database (longest first, so a title goes before a word
    of it): what people typed is shown as they typed it."""
    values: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
            and not f.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                if isinstance(value, list):  # keywords, fields: shown joined and one by one
                    values.update(str(item) for item in value)
                    value = ", ".join(map(str, value))
                if value and isinstance(value, str):
                    values.update(line.strip() for line in value.splitlines())
    return sorted((v for v in values if len(v) >= 2), key=len, reverse=True)


def english_in(text: str, *, language: str) -> list[str]:
    if language == "ko":
        # Korean writes particles onto a name or unit as it is ("CET에", "CSV로"): the Latin
        # letters of a word are looked at on their own.
        runs = [run for word in WORD.findall(text) for run in LATIN_RUN.findall(word)]
        return [run for run in runs if run.lower() not in ALWAYS_AS_IS]
    words = [w for w in WORD.findall(text) if w.lower() not in ALWAYS_AS_IS]
    return [w for w in words if w.lower() in ENGLISH_ONLY]


def _without(text: str, typed: list[str]) -> str:
    for value in typed:
        if value in text:
            text = text.replace(value, " ")
    # addresses, paths, time zones' names ("Europe/Berlin") and codes ("PE6") are not words
    return re.sub(
        r"\S+@\S+|https?://\S+|[A-Za-z_]*/\S*|\b[A-Z]{1,4}[0-9]+\b|\([A-Z]{1,4}\)", " ", text
    )


@pytest.mark.parametrize("language", ["de", "ko"])
def test_no_english_text_on_any_page(language):
    world = build_world()
    typed = typed_by_people()
    urls = app_urls(values=world["values"], skip_prefixes=tuple(NOT_WALKED))
    found: dict[tuple[str, str], set[str]] = {}
    pages = 0
    for persona, client in clients(world).items():
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        for url in urls:
            response = client.get(url, follow=True)
            if response.streaming or b"<html" not in response.content[:500]:
                continue  # not a page: a file, an export, a refused method's empty answer
            pages += 1
            parser = _Text()
            parser.feed(response.content.decode())
            assert parser.lang == language, (persona, url, parser.lang)
            for piece in parser.pieces:
                piece = " ".join(piece.split())
                english = english_in(_without(piece, typed), language=language)
                if english:
                    found.setdefault((url, piece[:160]), set()).add(persona)
    report = "\n".join(
        f"{url}: {piece!r} ({', '.join(sorted(who))})"
        for (url, piece), who in sorted(found.items())
    )
    if found:
        pytest.fail(f"{len(found)} English texts on {language} pages:\n{report}", pytrace=False)
    assert pages > len(PERSONAS) * 20


def test_the_check_finds_english():
    """The two rules catch what they are for, and let through what stays as it is."""
    assert english_in("Submit your proposal", language="de") == ["Submit", "your", "proposal"]
    assert english_in("Antrag einreichen: 120 GPU-Stunden, Allot", language="de") == []
    assert english_in("Die Frist ist abgelaufen; was nun?", language="de") == []
    assert english_in("제안서를 제출하세요 (PDF, 4 GPU h)", language="ko") == []
    assert english_in("제안서 Draft", language="ko") == ["Draft"]
    assert _without("Titel: Sparse experts at scale", ["Sparse experts at scale"]) == "Titel:  "


def test_a_page_in_german_is_german(client: Client):
    """One page read through, so the walk above is known to see the translation at work."""
    response = client.get("/calls/", HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert '<html lang="de"' in html
    with translation.override("de"):
        heading = translation.gettext("Calls for proposals")
    assert f"<h1>{heading}</h1>" in html
