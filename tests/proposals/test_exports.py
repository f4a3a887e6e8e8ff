"""Exports of a call (PRODUCT §9) as CSV and XLSX, written by one exporter
(``accounts.exports``): proposals and decisions for call managers, reviews for the committee
and the managers, the ranking for both. Each file is opened as a spreadsheet would open it;
each respects PRODUCT §1.1 and runs no formula."""

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.exports import Table, csv_bytes, xlsx_bytes
from proposals.review.enums import ConflictStatus
from proposals.submission.models import Proposal
from tests.conftest import make_user
from tests.proposals.decisions_factories import decide_all, on_committee, worked_example
from tests.proposals.test_ranking import conflict

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def example(pi, coi):
    example = worked_example(pi=pi, coi=coi)
    Proposal.objects.filter(pk=example["FOXTROT"].pk).update(title=HOSTILE)
    return example


def csv_rows(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def by_acronym(rows: list[list], column: int = 1) -> dict[str, list]:
    return {row[column]: row for row in rows[1:]}


# --- The exporter ---------------------------------------------------------------------------


def test_a_text_that_starts_like_a_formula_is_written_as_text_in_both_formats():
    table = Table(
        name="hostile: [sheet]/name?",
        columns=["=title", "amount"],
        rows=[[HOSTILE, -5], ["+1", 3], ["-2", None], ["@SUM(A1)", True], ["fine\x01", False]],
    )

    rows = list(csv.reader(io.StringIO(csv_bytes(table).decode()[1:])))
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table)))
    sheet = book.active

    assert rows == [
        ["'=title", "amount"],
        ["'" + HOSTILE, "-5"],
        ["'+1", "3"],
        ["'-2", ""],
        ["'@SUM(A1)", "yes"],
        ["fine\x01", "no"],
    ]
    assert sheet.title == "hostile   sheet  name "
    cells = [list(row) for row in sheet.iter_rows()]
    assert [c.value for c in cells[1]] == [HOSTILE, -5]
    assert cells[1][0].data_type == "s"  # a string, never a formula
    assert cells[0][0].data_type == "s"
    assert [c.value for c in cells[5]] == ["fine", "no"]


# --- Proposals (managers) ---------------------------------------------------------------------


def test_a_manager_downloads_the_proposals_as_csv(client, example, manager):
    client.force_login(manager)
    response = client.get(reverse("manage_call_proposals_csv", args=[example.call.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="jupiter-2027-1-proposals.csv"'
    )
    assert response["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert rows[0][:4] == ["Reference", "Acronym", "Title", "Status"]
    assert rows[0][-1] == "JUPITER Booster requested (GPU-hours)"
    found = by_acronym(rows)
    assert sorted(found) == ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"]
    alpha = found["ALPHA"]
    assert alpha[2:6] == ["The ALPHA project", "Submitted", "Paula Investigator", "pi@uni.example"]
    assert alpha[-1] == "400000.00"
    assert found["FOXTROT"][2] == "'" + HOSTILE


def test_the_proposals_as_xlsx_hold_numbers_and_no_formula(client, example, manager):
    client.force_login(manager)
    response = client.get(reverse("manage_call_proposals_xlsx", args=[example.call.pk]))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = by_acronym(xlsx_rows(response))
    assert rows["ALPHA"][-1] == 400000
    assert rows["FOXTROT"][2] == HOSTILE
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_proposals_take_the_same_queries_for_two_or_six_rows(client, manager, pi, coi):
    client.force_login(manager)
    example = worked_example(pi=pi, coi=coi)
    url = reverse("manage_call_proposals_csv", args=[example.call.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as six:
        client.get(url)
    Proposal.objects.filter(acronym__in=["CHARLIE", "DELTA", "ECHO", "FOXTROT"]).delete()
    with CaptureQueriesContext(connection) as two:
        assert len(csv_rows(client.get(url))) == 3
    assert len(six.captured_queries) == len(two.captured_queries)


# --- Decisions (managers) ---------------------------------------------------------------------


def test_a_manager_downloads_the_decisions(client, example, manager):
    decide_all(example, manager)
    client.force_login(manager)
    rows = by_acronym(
        csv_rows(client.get(reverse("manage_call_decisions_csv", args=[example.call.pk])))
    )

    assert rows["ALPHA"][4:7] == ["Awarded", "400000.00", ""]
    assert rows["ALPHA"][-1] == "Congratulations: a strong proposal."
    assert rows["CHARLIE"][4:6] == ["Partially awarded", "300000.00"]
    assert rows["FOXTROT"][4:6] == ["Rejected", ""]


# --- Reviews (the committee) ------------------------------------------------------------------


def test_the_committee_downloads_the_reviews_with_names_and_confidential_comments(
    client, example, committee
):
    on_committee(example.call, committee)
    client.force_login(committee)
    response = client.get(reverse("call_reviews_csv", args=[example.call.pk]))

    rows = csv_rows(response)
    assert rows[0] == [
        "Reference",
        "Acronym",
        "Reviewer",
        "Kind",
        "Submitted at",
        "Scientific excellence (0–5)",
        "Feasibility (0–5)",
        "Recommendation",
        "Technical verdict",
        "Comment to the applicant",
        "Confidential comment to the committee",
    ]
    alpha = [row for row in rows if row[1] == "ALPHA"]
    assert len(alpha) == 1
    assert alpha[0][2:4] == ["Rita Reviewer", "Scientific review"]
    assert alpha[0][5:7] == ["5", "5"]
    assert alpha[0][-2:] == ["Comment to the applicant of ALPHA.", "Confidential note on ALPHA."]
    bravo = [row for row in rows if row[1] == "BRAVO"]
    assert [row[2] for row in bravo] == ["Rita Reviewer", "Tom Technical"]


def test_a_committee_member_in_conflict_gets_no_row_of_that_proposal(client, example, committee):
    on_committee(example.call, committee)
    conflict(example["BRAVO"], committee, ConflictStatus.DECLARED)
    client.force_login(committee)

    for name in ("call_reviews_csv", "call_ranking_csv"):
        body = client.get(reverse(name, args=[example.call.pk])).content.decode()
        assert "BRAVO" not in body, name
        assert "ALPHA" in body, name
    xlsx = xlsx_rows(client.get(reverse("call_reviews_xlsx", args=[example.call.pk])))
    assert "BRAVO" not in {row[1] for row in xlsx}


def test_the_ranking_downloads_as_xlsx_too(client, example, committee):
    on_committee(example.call, committee)
    client.force_login(committee)
    rows = xlsx_rows(client.get(reverse("call_ranking_xlsx", args=[example.call.pk])))

    assert rows[0][:3] == ["Rank", "Reference", "Acronym"]
    assert [row[2] for row in rows[1:3]] == ["ALPHA", "BRAVO"]
    assert rows[1][0] == 1


# --- Who may download -------------------------------------------------------------------------

MANAGER_ONLY = [
    "manage_call_proposals_csv",
    "manage_call_proposals_xlsx",
    "manage_call_decisions_csv",
    "manage_call_decisions_xlsx",
]


@pytest.mark.parametrize("name", MANAGER_ONLY)
def test_the_committee_reviewers_and_applicants_get_403_for_the_managers_files(
    client, example, committee, pi, name
):
    on_committee(example.call, committee)
    reviewer = example.reviewer
    for person in (committee, pi, reviewer):
        client.force_login(person)
        response = client.get(reverse(name, args=[example.call.pk]))
        assert response.status_code == 403, person
        assert b"ALPHA" not in response.content


@pytest.mark.parametrize("name", ["call_reviews_csv", "call_reviews_xlsx"])
def test_reviewers_and_applicants_get_403_for_the_reviews(client, example, pi, name):
    for person in (pi, example.reviewer, make_user("nobody@uni.example")):
        client.force_login(person)
        response = client.get(reverse(name, args=[example.call.pk]))
        assert response.status_code == 403
        assert b"Rita" not in response.content


@pytest.mark.parametrize("name", [*MANAGER_ONLY, "call_reviews_csv"])
def test_no_such_call_is_404_and_a_post_is_405(client, example, manager, name):
    client.force_login(manager)
    assert client.get(reverse(name, args=[example.call.pk + 1000])).status_code == 404
    assert client.post(reverse(name, args=[example.call.pk])).status_code == 405


@pytest.mark.parametrize("name", [*MANAGER_ONLY, "call_reviews_csv"])
def test_anonymous_is_sent_to_sign_in(client, example, name):
    url = reverse(name, args=[example.call.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_the_pages_link_to_their_files(client, example, manager, committee):
    on_committee(example.call, committee)
    client.force_login(manager)
    pk = example.call.pk
    proposals = client.get(reverse("manage_call_proposals", args=[pk])).content.decode()
    decisions = client.get(reverse("manage_decisions", args=[pk])).content.decode()
    client.force_login(committee)
    ranking = client.get(reverse("call_ranking", args=[pk])).content.decode()

    for name in ("manage_call_proposals_csv", "manage_call_proposals_xlsx"):
        assert f'href="{reverse(name, args=[pk])}"' in proposals
    for name in ("manage_call_decisions_csv", "manage_call_decisions_xlsx"):
        assert f'href="{reverse(name, args=[pk])}"' in decisions
    for name in ("call_ranking_xlsx", "call_reviews_csv", "call_reviews_xlsx"):
        assert f'href="{reverse(name, args=[pk])}"' in ranking
    assert reverse("manage_call_proposals_csv", args=[pk]) not in ranking
