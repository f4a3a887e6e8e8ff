"""One date format with its zone everywhere (issue 14): instants as "4 Dec 2026, 17:13 CET" in
the reader's zone, dates without a time as "4 Dec 2026", months as "May 2027". Templates
format through the ``calls`` filters (``accounts.formatting``), never ``|date:`` or a bare
datetime, which would print Django's "Dec. 4, 2026, 5:13 p.m." without a zone."""

import re
import zoneinfo
from datetime import date, datetime
from pathlib import Path

from django.template import Context, Template
from django.utils import timezone

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
INSTANT = datetime(2026, 12, 4, 16, 13, tzinfo=zoneinfo.ZoneInfo("UTC"))
# An object's attribute printed as it is (no filter) or handed to blocktranslate, whose name
# says it is an instant (created_at, sending_since) or a date (period_start, new_end, due);
# form fields (form.closes_at) render their own widgets.
INSTANT_OR_DATE = (
    r"(?!form\.)[a-z_]+(?:\.[a-z_]+)*"
    r"(?:\.[a-z_]*(?:_at|_since|_start|_end)|\.start|\.end|\.due|\.opens)"
)
BARE = [
    re.compile(r"\{\{\s*" + INSTANT_OR_DATE + r"\s*\}\}"),
    re.compile(r"\bwith\b[^%]*?\b\w+=" + INSTANT_OR_DATE + r"(?=[\s%])"),
]


def _templates():
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".txt"}:
            yield path.relative_to(TEMPLATES), path.read_text()


def test_no_template_formats_a_date_its_own_way():
    found = [
        f"{name}: {match}"
        for name, text in _templates()
        for match in re.findall(r"\|\s*(?:date|time)\s*:[^}%]*", text)
    ]
    assert found == []


def test_no_template_prints_a_bare_date_or_instant():
    found = [
        f"{name}: {match}"
        for name, text in _templates()
        for pattern in BARE
        for match in pattern.findall(text)
    ]
    assert found == []


def test_the_scan_would_find_a_bare_instant():
    assert BARE[0].findall("<td>{{ message.created_at }}</td>") == ["{{ message.created_at }}"]
    assert BARE[1].findall("{% blocktranslate with when=member.responded_at %}") != []
    assert BARE[1].findall("{% blocktranslate with when=member.responded_at|instant %}") == []


def render(source: str, **context) -> str:
    return Template("{% load calls %}" + source).render(Context(context))


def test_an_instant_reads_in_the_readers_zone_with_the_zone():
    with timezone.override(BERLIN):
        assert render("{{ value|instant }}", value=INSTANT) == "4 Dec 2026, 17:13 CET"
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert render("{{ value|instant }}", value=INSTANT) == "4 Dec 2026, 11:13 EST"


def test_seconds_show_only_when_there_are_some():
    with timezone.override(BERLIN):
        value = INSTANT.replace(second=9)
        assert render("{{ value|instant }}", value=value) == "4 Dec 2026, 17:13:09 CET"


def test_machines_read_utc_and_people_read_days_and_months():
    assert render("{{ value|iso }}", value=INSTANT) == "2026-12-04T16:13:00Z"
    assert render("{{ value|day }}", value=date(2027, 5, 1)) == "1 May 2027"
    assert render("{{ value|month }}", value=date(2027, 5, 1)) == "May 2027"


def test_nothing_prints_nothing():
    assert render("[{{ a|instant }}|{{ a|iso }}|{{ a|day }}|{{ a|month }}]", a=None) == "[|||]"
