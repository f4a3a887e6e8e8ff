"""``manage.py messages``: bring the German and Korean catalogues (``locale/``) up to date with
the code's strings; ``--check`` changes nothing and fails when they are stale or incomplete
(issue 14: CI fails on an untranslated message or a stale ``.po`` file).

Stale: ``makemessages``, run on a copy, would change a catalogue (a string added, changed or
gone; where a string is used is not compared, so moving code is not stale). Incomplete:
``msgfmt --check --statistics`` finds a message untranslated or fuzzy, or a translation whose
placeholders do not match.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands import makemessages
from django.test.utils import override_settings

LANGUAGES = ("de", "ko")
IGNORE = (".venv", "node_modules", "test-artifacts", "staticfiles", "var", "benchmarks")
# What changes without any message changing: the header's date, and where a message is used
# (moving code to another module is no reason to fail the check; `make messages` updates it).
VOLATILE = ("POT-Creation-Date:",)
LOCATION = "#:"


class _MakeMessagesInto(makemessages.Command):
    """Django's makemessages, writing every file's strings into ``target``: left alone it
    writes into the project's own ``locale/`` (it sits next to the code), so a check on a copy
    would change the real catalogues and compare the copy with itself."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = str(target)

    def find_files(self, root):
        files = super().find_files(root)
        for translatable in files:
            translatable.locale_dir = self.target
        return files


def update(locale_dir: Path) -> None:
    with override_settings(LOCALE_PATHS=[locale_dir]):
        call_command(
            _MakeMessagesInto(locale_dir),
            locale=list(LANGUAGES),
            ignore_patterns=list(IGNORE),
            add_location="file",
            no_obsolete=True,
            verbosity=0,
        )


def catalogue(locale_dir: Path, language: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / "django.po"


def _lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not any(mark in line for mark in VOLATILE) and not line.startswith(LOCATION)
    ]


def stale(locale_dir: Path) -> list[str]:
    """The catalogues makemessages would change, each with its first changed line."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "locale"
        shutil.copytree(locale_dir, copy, ignore=shutil.ignore_patterns("*.mo"))
        update(copy)
        for language in LANGUAGES:
            ours, theirs = (
                _lines(catalogue(locale_dir, language)),
                _lines(catalogue(copy, language)),
            )
            if ours != theirs:
                first = next(
                    (a or b for a, b in zip(ours + [""], theirs + [""], strict=False) if a != b),
                    "",
                )
                problems.append(
                    f"{catalogue(locale_dir, language)} is stale (run `make messages`, then "
                    f"translate what is new): first difference near {first!r}"
                )
    return problems


def incomplete(locale_dir: Path) -> list[str]:
    """What msgfmt reports as untranslated, fuzzy or wrong in each catalogue."""
    problems = []
    for language in LANGUAGES:
        path = catalogue(locale_dir, language)
        result = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        report = result.stderr.strip()
        if result.returncode != 0 or "untranslated" in report or "fuzzy" in report:
            problems.append(f"{path}: {report}")
    return problems


class Command(BaseCommand):
    help = "Update locale/ from the code's strings; --check: fail if it is stale or incomplete."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; report.")

    def handle(self, *args, check: bool = False, **options):
        locale_dir = Path(settings.LOCALE_PATHS[0])
        if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
            raise CommandError("GNU gettext is missing (Debian: apt-get install gettext).")
        if not check:
            update(locale_dir)
            problems = incomplete(locale_dir)
            self.stdout.write("\n".join(problems) or "Every message is translated.")
            return
        problems = stale(locale_dir) + incomplete(locale_dir)
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write("The catalogues are current and complete.")
