"""The German and Korean catalogues are complete and current (issue 14, point 2): CI fails
when a message is untranslated or fuzzy, or when ``makemessages`` would change a catalogue."""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.management.commands.messages import LANGUAGES, catalogue, incomplete, stale
from tests.services import require_gettext


@pytest.fixture
def gettext():
    require_gettext()


def test_every_message_is_translated(gettext):
    assert incomplete(Path(settings.LOCALE_PATHS[0])) == []


def test_the_catalogues_match_the_code(gettext):
    assert stale(Path(settings.LOCALE_PATHS[0])) == []


def test_the_check_fails_on_a_new_string_and_an_untranslated_one(gettext, tmp_path, settings):
    """A catalogue missing a string of the code is stale; an empty translation is incomplete."""
    locale_dir = tmp_path / "locale"
    shutil.copytree(settings.LOCALE_PATHS[0], locale_dir, ignore=shutil.ignore_patterns("*.mo"))
    german = catalogue(locale_dir, "de")
    text = german.read_text(encoding="utf-8")
    entry = 'msgid "Calls for proposals"\nmsgstr "'
    assert entry in text
    german.write_text(
        text.replace(entry, 'msgid "Calls for proposals, renamed"\nmsgstr "'), encoding="utf-8"
    )
    assert [p.split(" is stale")[0] for p in stale(locale_dir)] == [str(german)]

    before = _untranslated(incomplete(locale_dir), "ko")
    catalogue(locale_dir, "ko").write_text(
        catalogue(locale_dir, "ko").read_text(encoding="utf-8")
        + '\nmsgid "A string nobody translated"\nmsgstr ""\n',
        encoding="utf-8",
    )
    assert _untranslated(incomplete(locale_dir), "ko") == before + 1
    settings.LOCALE_PATHS = [locale_dir]
    with pytest.raises(CommandError, match="untranslated"):
        call_command("messages", check=True)


def _untranslated(problems: list[str], language: str) -> int:
    """The number msgfmt reports untranslated in ``language``'s catalogue (0 if none)."""
    for problem in problems:
        if f"/{language}/" in problem:
            match = re.search(r"(\d+) untranslated message", problem)
            return int(match.group(1)) if match else 0
    return 0


@pytest.mark.parametrize(
    ("language", "sign_in", "calls"),
    [("de", "Anmelden", "Ausschreibungen"), ("ko", "로그인", "공모")],
)
def test_the_compiled_catalogue_is_read(language, sign_in, calls):
    """``make test`` compiles the catalogues first: the app's own strings read translated."""
    assert set(LANGUAGES) == {"de", "ko"}
    with translation.override(language):
        assert translation.gettext("Sign in") == sign_in
        assert calls in translation.gettext("Calls for proposals")
