"""``manage.py seed_demo``: demo data that can be created twice without changing anything."""

import io
import zoneinfo

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from allocations.models import Resource
from notifications.models import OutboxMessage
from proposals.enums import CallRoleKind, CallStatus
from proposals.management.commands.seed_demo import PASSWORD, call_names, open_call_dates
from proposals.models import Call, CallCriterion, CallResource, CallRole

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        User,
        EmailAddress,
        Resource,
        Call,
        CallResource,
        CallCriterion,
        CallRole,
        OutboxMessage,
    ]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded(db) -> str:
    return seed()


def test_second_run_changes_nothing_and_says_so(seeded):
    first = counts()

    output = seed()

    assert counts() == first
    assert first == {
        "User": 6,
        "EmailAddress": 6,
        "Resource": 3,
        "Call": 3,
        "CallResource": 9,
        "CallCriterion": 9,
        "CallRole": 2,
        "OutboxMessage": 0,
    }
    assert "Demo data already present: nothing changed." in output
    assert "Demo data created" in seeded


def test_output_lists_accounts_password_and_address(seeded):
    for expected in [
        "pi@demo.allot.example",
        "coi@demo.allot.example",
        "reviewer@demo.allot.example",
        "committee@demo.allot.example",
        "manager@demo.allot.example",
        "admin@demo.allot.example",
        f"Password for every account: {PASSWORD}",
        "two-factor authentication",
        "http://127.0.0.1:8000/",
    ]:
        assert expected in seeded, expected


def test_last_years_call_is_decided_this_ones_open_and_the_next_upcoming(seeded):
    today = timezone.localdate(timezone=BERLIN)
    open_code = call_names(open_call_dates(today)["period_start"])["code"]
    calls = list(Call.objects.order_by("opens_at"))

    assert [call.status for call in calls] == [
        CallStatus.DECIDED,
        CallStatus.OPEN,
        CallStatus.UPCOMING,
    ]
    assert calls[1].code == open_code
    year, half = int(open_code[-6:-2]), int(open_code[-1])
    assert [call.code for call in calls] == [
        f"JUPITER {year - 1}-{half}",
        f"JUPITER {year}-{half}",
        f"JUPITER {year + half - 1}-{3 - half}",
    ]
    closes = calls[1].closes_at.astimezone(BERLIN)
    assert (closes.hour, closes.minute, closes.second) == (17, 0, 0)
    assert 35 <= (closes.date() - today).days <= 49


def test_budgets_and_criteria_are_realistic(seeded):
    call = Call.objects.order_by("opens_at")[1]

    offers = {
        row.resource.name: (row.budget, row.resource.unit)
        for row in call.call_resources.select_related("resource")
    }
    assert offers == {
        "JUPITER Booster": (2_500_000, "GPU-hours"),
        "JUWELS Cluster": (40_000_000, "core-hours"),
        "Project storage": (500, "TB"),
    }
    assert list(call.criteria.values_list("name", flat=True)) == [
        "Scientific excellence",
        "Technical feasibility",
        "Impact",
    ]
    booster = Resource.objects.get(code="jupiter-booster")
    assert (booster.slurm_cluster, booster.slurm_partition, booster.charge_rule) == (
        "jupiter",
        "booster",
        "gpu",
    )


def test_accounts_are_verified_with_roles(seeded):
    open_call = Call.objects.order_by("opens_at")[1]
    manager = User.objects.get(email="manager@demo.allot.example")
    admin = User.objects.get(email="admin@demo.allot.example")

    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 6
    assert all(user.check_password(PASSWORD) for user in User.objects.all())
    assert list(manager.groups.values_list("name", flat=True)) == [settings.CALL_MANAGERS_GROUP]
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert {(role.role, role.user.email) for role in open_call.roles.select_related("user")} == {
        (CallRoleKind.REVIEWER, "reviewer@demo.allot.example"),
        (CallRoleKind.COMMITTEE, "committee@demo.allot.example"),
    }
    assert "PE6" in User.objects.get(email="reviewer@demo.allot.example").expertise
    assert all(user.full_name and user.affiliation and user.country for user in User.objects.all())
