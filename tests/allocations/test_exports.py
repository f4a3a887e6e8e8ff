"""Allocations (managers, with the list's filters) and an allocation's usage (its readers) as
CSV and XLSX, written by the one exporter (PRODUCT §9)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tests.allocation_factories import add_usage
from tests.allocations.test_my_allocations import month_start, running
from tests.proposals.helpers import assert_guarded

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi, coi, booster):
    allocation = running(pi, members=[coi], awarded={booster: 12_000}, acronym="moe")
    add_usage(allocation, booster, 500, on=month_start(-2) + timedelta(days=9), user=pi)
    add_usage(allocation, booster, 800, on=month_start(-1) + timedelta(days=9), user=coi)
    return allocation


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_a_manager_downloads_the_allocations_with_their_figures(client, allocation, manager):
    client.force_login(manager)
    rows = csv_rows(client.get(reverse("allocations_export_csv")))

    assert rows[0][:3] == ["Account", "Call", "Proposal"]
    assert len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["Account"] == allocation.account
    assert line["Principal investigator"] == "Paula Investigator"
    assert line["Resource"] == "JUPITER Booster"
    figures = [Decimal(line[name]) for name in ("Awarded", "Used", "Forfeited", "Left")]
    assert figures == [12_000, 1_300, 0, 10_700]


def test_the_allocations_keep_the_list_s_filters(client, allocation, manager):
    client.force_login(manager)
    ended = csv_rows(client.get(reverse("allocations_export_csv"), {"state": "ended"}))
    assert len(ended) == 1  # the header alone: this allocation is active


def test_the_allocations_as_xlsx(client, allocation, manager):
    client.force_login(manager)
    response = client.get(reverse("allocations_export_xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["Used"] == 1300
    assert values["Account"] == allocation.account


def test_a_member_downloads_the_usage_of_their_allocation(client, allocation, coi):
    client.force_login(coi)
    rows = csv_rows(client.get(reverse("allocation_usage_csv", args=[allocation.pk])))

    assert rows[0] == ["When", "Kind", "Resource", "Unit", "Amount", "Member"]
    usage = [row for row in rows[1:] if row[1] == "Usage"]
    assert [(row[4], row[5]) for row in usage] == [
        ("-500.0000", "Paula Investigator"),
        ("-800.0000", "Carl Coinvestigator"),
    ]
    page = client.get(reverse("allocation_detail", args=[allocation.pk])).content.decode()
    assert reverse("allocation_usage_xlsx", args=[allocation.pk]) in page


def test_an_outsider_gets_404_and_a_post_405(client, allocation, outsider, coi):
    client.force_login(outsider)
    for name in ("allocation_usage_csv", "allocation_usage_xlsx"):
        assert client.get(reverse(name, args=[allocation.pk])).status_code == 404
    client.force_login(coi)
    assert client.post(reverse("allocation_usage_csv", args=[allocation.pk])).status_code == 405


def test_the_allocations_file_is_for_managers_with_the_second_factor(client, allocation, pi):
    assert_guarded(client, pi, reverse("allocations_export_csv"))
