"""Allocations and the ledger in the Django admin: shown to operators, never changed there."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from allocations.models import LedgerEntry, UsageFile
from tests.allocation_factories import add_usage, make_allocation
from tests.conftest import make_superuser
from tests.factories import make_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_superuser("ops@centre.example"))
    return client


@pytest.fixture
def allocation(pi):
    booster = make_resource()
    allocation = make_allocation(pi=pi, awarded={booster: 1_000})
    add_usage(allocation, booster, 10, on=date(2027, 6, 1))
    return allocation


@pytest.mark.parametrize(
    "model", ["allocation", "ledgerentry", "allocationrequest", "finalreport", "usagefile"]
)
def test_the_lists_open_and_offer_no_adding(admin_client, allocation, model):
    response = admin_client.get(reverse(f"admin:allocations_{model}_changelist"))

    assert response.status_code == 200
    assert admin_client.get(reverse(f"admin:allocations_{model}_add")).status_code == 403


def test_an_allocation_and_an_entry_are_shown_read_only(admin_client, allocation):
    entry = allocation.ledger.get(kind="usage")

    page = admin_client.get(reverse("admin:allocations_allocation_change", args=[allocation.pk]))
    entry_page = admin_client.get(reverse("admin:allocations_ledgerentry_change", args=[entry.pk]))

    assert page.status_code == entry_page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert 'name="_save"' not in entry_page.content.decode()
    assert allocation.account in page.content.decode()


def test_an_entry_cannot_be_deleted_or_changed_in_the_admin(admin_client, allocation):
    entry = allocation.ledger.get(kind="usage")
    change = reverse("admin:allocations_ledgerentry_change", args=[entry.pk])

    deleted = admin_client.post(
        reverse("admin:allocations_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    changed = admin_client.post(change, {"amount": "-1", "kind": "usage"})

    assert deleted.status_code == changed.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == -10


def test_an_imported_usage_file_shows_its_report(admin_client):
    report = "Usage import from cluster jupiter\nline 7: Account: unknown account 'nope'"
    usage_file = UsageFile.objects.create(
        path="/srv/usage/2027-06-01.txt",
        sha256="ab" * 32,
        cluster="jupiter",
        imported_at=timezone.now(),
        report_summary=report,
    )

    listing = admin_client.get(reverse("admin:allocations_usagefile_changelist"))
    page = admin_client.get(reverse("admin:allocations_usagefile_change", args=[usage_file.pk]))

    assert "/srv/usage/2027-06-01.txt" in listing.content.decode()
    assert "line 7: Account: unknown account &#x27;nope&#x27;" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
