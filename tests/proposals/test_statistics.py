"""Statistics for call managers (PRODUCT §9): proposals, success rate and awarded amounts by
field of science, country and institution, per call and across calls, the oversubscription
of each resource over the cycles, drawn on the server with the numbers as tables."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allocations.services.publishing import decisions_publish
from proposals.submission.models import Proposal
from tests.conftest import make_user
from tests.proposals.decisions_factories import (
    decide_all,
    decisions_call,
    on_committee,
    submitted,
    worked_example,
)
from tests.proposals.helpers import assert_guarded
from tests.proposals.test_call_dashboard import table_rows

pytestmark = pytest.mark.django_db

URL = reverse("manage_statistics")
# acronym → field, country, institution of its PI
ORIGINS = {
    "ALPHA": ("PE6", "DE", "Universität A"),
    "BRAVO": ("PE6", "DE", "Universität A"),
    "CHARLIE": ("LS2", "FR", "Université B"),
    "DELTA": ("LS2", "FR", "Université B"),
    "ECHO": ("PE6", "DE", "Université B"),
    "FOXTROT": ("PE6", "DE", "Université B"),
}


@pytest.fixture
def published(pi, coi, manager):
    """The worked example decided as suggested (ALPHA and BRAVO awarded 400,000 and 300,000,
    CHARLIE 300,000 in part, DELTA and ECHO waitlisted, FOXTROT rejected) and published."""
    example = worked_example(pi=pi, coi=coi)
    for acronym, (field, country, institution) in ORIGINS.items():
        Proposal.objects.filter(pk=example[acronym].pk).update(
            field=field, pi_country=country, pi_affiliation=institution
        )
    decide_all(example, manager)
    decisions_publish(call=example.call, by=manager)
    return example


def test_a_manager_reads_the_statistics_by_field_country_and_institution(
    client, published, manager
):
    client.force_login(manager)
    html = client.get(URL, {"call": published.call.pk}).content.decode()

    assert "Statistics of JUPITER 2027-1" in html
    assert table_rows(html, "by-field")[1:] == [
        ["PE6 Computer Science and Informatics", "4", "4", "2", "50.0 %", "700,000 GPU-hours"],
        ["LS2 Integrative Biology", "2", "2", "1", "50.0 %", "300,000 GPU-hours"],
    ]
    assert table_rows(html, "by-country")[1:] == [
        ["Germany", "4", "4", "2", "50.0 %", "700,000 GPU-hours"],
        ["France", "2", "2", "1", "50.0 %", "300,000 GPU-hours"],
    ]
    assert table_rows(html, "by-institution")[1:] == [
        ["Université B", "4", "4", "1", "25.0 %", "300,000 GPU-hours"],
        ["Universität A", "2", "2", "2", "100.0 %", "700,000 GPU-hours"],
    ]
    assert table_rows(html, "cycles")[1] == [
        "JUPITER 2027-1",
        "JUPITER Booster",
        "1,000,000 GPU-hours",
        "1,600,000 GPU-hours",
        "1.60×",
    ]
    summary = " ".join(re.sub(r"<[^>]+>", " ", html.split('id="summary"')[1][:900]).split())
    assert "Proposals 6 Decided 6 Awarded 3 Success rate 50.0 % Awarded in all 1,000,000" in (
        summary
    )


def test_the_charts_are_drawn_on_the_server_with_a_text_alternative(client, published, manager):
    client.force_login(manager)
    html = client.get(URL).content.decode()

    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 3
    assert all('role="img"' in svg and "<desc " in svg for svg in svgs)
    assert "PE6 Computer Science and Informatics: 4, LS2 Integrative Biology: 2" in svgs[0]
    assert "JUPITER 2027-1 JUPITER Booster: 1.60×" in svgs[2]
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]


def test_before_any_decision_the_success_rate_is_not_a_number(client, manager, pi, coi):
    example = worked_example(pi=pi, coi=coi)
    client.force_login(manager)
    html = client.get(URL, {"call": example.call.pk}).content.decode()

    rows = table_rows(html, "by-field")
    assert [row[1:5] for row in rows[1:]] == [["6", "0", "0", "—"]]


def test_across_calls_every_call_counts_and_the_queries_stay_constant(client, published, manager):
    client.force_login(manager)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    second = decisions_call(code="JUPITER 2027-2")
    for n in range(6):  # a second call with six more proposals
        submitted(second, make_user(f"pi{n}@second.example"), f"ZULU{n}", 100_000)
    with CaptureQueriesContext(connection) as two:
        html = client.get(URL).content.decode()

    assert "Statistics of every call" in html
    summary = html.split('id="summary"')[1][:400]
    assert "<dd>12</dd>" in summary
    assert len(one.captured_queries) == len(two.captured_queries)


def test_an_unknown_call_shows_every_call(client, published, manager):
    client.force_login(manager)
    html = client.get(URL, {"call": "999999"}).content.decode()
    assert "Statistics of every call" in html
    assert "Select a valid choice" in html


def test_only_managers_with_the_second_factor(client, published, pi, committee):
    assert_guarded(client, pi, URL)
    on_committee(published.call, committee)
    client.force_login(committee)
    response = client.get(URL)
    assert response.status_code == 403
    assert "Universität A" not in response.content.decode()


def test_post_is_405(client, manager):
    client.force_login(manager)
    assert client.post(URL).status_code == 405


def test_usage_against_award_lists_the_under_users(client, manager, pi, coi):
    from tests.allocation_factories import add_usage
    from tests.allocations.test_my_allocations import month_start, running
    from tests.factories import make_resource

    booster = make_resource()
    allocation = running(pi, members=[coi], awarded={booster: 12_000}, acronym="moe")
    add_usage(allocation, booster, 1_300, on=month_start(-1), user=coi)
    client.force_login(manager)
    html = client.get(URL).content.decode()

    assert table_rows(html, "usage")[1] == ["GPU-hours", "12,000", "1,300", "10.8 %", "0"]
    under = table_rows(html, "under-users")[1:]
    assert [row[:3] for row in under] == [
        [allocation.account, "Paula Investigator", "JUPITER Booster"]
    ]
    assert "1 active allocation used less than 50 % of what was due so far" in html
