"""The ranking as CSV: the same rows as the page, for the committee and the managers only."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.calls.enums import CallRoleKind
from proposals.submission.models import Proposal
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.test_ranking import (
    build_example,
    conflict,
    in_review,
    ranking_call,
    reviewers_of,
    scientific,
    submitted_proposal,
)

pytestmark = pytest.mark.django_db

HEADER = [
    "Rank",
    "Reference",
    "Acronym",
    "Title",
    "Principal investigator",
    "Field",
    "Reviews submitted",
    "Reviews assigned",
    "Score",
    "Normalised score",
    "Spread",
    "Reviewers disagree",
    "Technical verdict",
    "JUPITER Booster requested (GPU-hours)",
    "JUPITER Booster recommended (GPU-hours)",
    "JUPITER Booster cumulative requested (GPU-hours)",
    "JUPITER Booster within budget",
    "Above the fundable threshold",
]


@pytest.fixture
def call(db):
    return ranking_call()


@pytest.fixture
def example(call, committee):
    return build_example(call, committee)


def url(call) -> str:
    return reverse("call_ranking_csv", args=[call.pk])


def rows_of(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_committee_downloads_the_ranking(client, call, example, committee):
    client.force_login(committee)
    response = client.get(url(call))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ranking-jupiter-2027-1.csv"'
    assert rows_of(response) == [
        HEADER,
        ["1", "JUP27-1-0002", "P2", "Project number 2", "Pat Owner2", "PE6", "2", "2",
         "3.50", "4.41", "3.00", "yes", "Feasible with changes",
         "100000.00", "80000.00", "100000.00", "yes", "yes"],
        ["2", "JUP27-1-0003", "P3", "Project number 3", "Pat Owner3", "PE6", "2", "2",
         "3.00", "2.29", "0.00", "no", "", "100000.00", "", "200000.00", "yes", "yes"],
        ["3", "JUP27-1-0004", "P4", "Project number 4", "Pat Owner4", "PE6", "2", "3",
         "3.00", "2.29", "0.00", "no", "", "100000.00", "", "300000.00", "no", "yes"],
        ["4", "JUP27-1-0001", "P1", "Project number 1", "Pat Owner1", "PE6", "3", "3",
         "2.67", "3.00", "5.00", "yes", "", "100000.00", "", "400000.00", "no", "no"],
    ]  # fmt: skip


def test_a_committee_member_in_conflict_gets_no_row_for_that_proposal(
    client, call, example, committee
):
    conflict(example["P2"], committee)
    client.force_login(committee)
    response = client.get(url(call))

    rows = rows_of(response)
    assert [row[:3] for row in rows[1:]] == [
        ["1", "JUP27-1-0003", "P3"],
        ["2", "JUP27-1-0004", "P4"],
        ["3", "JUP27-1-0001", "P1"],
    ]
    body = response.content.decode()
    for secret in ["JUP27-1-0002", "Project number 2", "Pat Owner2", "80000"]:
        assert secret not in body


def test_cells_a_spreadsheet_would_run_are_defused(client, call, committee, pi):
    add_call_role(call, committee)
    submitted_proposal(call, pi, "-SUM", title='=HYPERLINK("http://evil.example","click")')
    client.force_login(committee)

    row = rows_of(client.get(url(call)))[1]

    assert row[2:4] == ["'-SUM", '\'=HYPERLINK("http://evil.example","click")']


def test_text_is_utf8(client, call, committee):
    add_call_role(call, committee)
    pi = make_user("zoe@uni.example", full_name="Zoë Ångström-Jülich")
    submitted_proposal(call, pi, "UMLAUT", title="Über Sprachmodelle — 大規模")
    client.force_login(committee)

    row = rows_of(client.get(url(call)))[1]

    assert row[3:5] == ["Über Sprachmodelle — 大規模", "Zoë Ångström-Jülich"]


def test_managers_download_it_too(client, call, example, manager):
    client.force_login(manager)
    assert len(rows_of(client.get(url(call)))) == 5


@pytest.mark.parametrize("role", ["pi", "reviewer", "outsider"])
def test_others_get_403(client, call, example, reviewer, outsider, role):
    people = {"pi": example["P1"].pi, "reviewer": reviewer, "outsider": outsider}
    if role == "reviewer":
        add_call_role(call, reviewer, CallRoleKind.REVIEWER)
    client.force_login(people[role])
    response = client.get(url(call))
    assert response.status_code == 403
    assert "JUP27-1" not in response.content.decode()


def test_a_committee_member_of_another_call_gets_403(client, call, example):
    other = make_call("JUWELS 2027-1")
    person = make_user("board@other.example")
    add_call_role(other, person)
    client.force_login(person)
    assert client.get(url(call)).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, call):
    response = client.get(url(call))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url(call)}"


def test_post_is_405(client, call, committee):
    add_call_role(call, committee)
    client.force_login(committee)
    assert client.post(url(call)).status_code == 405


def test_constant_queries_for_one_and_three_proposals(client, call, committee):
    people = reviewers_of()
    add_call_role(call, committee)
    proposals = [
        submitted_proposal(call, make_user(f"q{n}@uni.example"), f"Q{n}") for n in range(3)
    ]
    in_review(call)
    scientific(proposals[0], people["A"], 4, 4)
    # out of competition and back again: no service returns a withdrawn proposal
    Proposal.objects.filter(pk__in=[p.pk for p in proposals[1:]]).update(status="withdrawn")
    client.force_login(committee)
    with CaptureQueriesContext(connection) as one:
        client.get(url(call))
    Proposal.objects.filter(pk__in=[p.pk for p in proposals[1:]]).update(status="submitted")
    for proposal in proposals[1:]:
        scientific(proposal, people["A"], 2, 2)
        scientific(proposal, people["B"], 3, 1)
    with CaptureQueriesContext(connection) as three:
        response = client.get(url(call))
    assert len(rows_of(response)) == 4
    assert len(one) == len(three)
