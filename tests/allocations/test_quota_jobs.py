"""Quota evaluation (PRODUCT §7/§8): activation, 75/90/100 % usage, low priority, expiring and
report-due emails to the PI and members, the forfeit at the end; running twice changes nothing."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocations.enums import LedgerKind
from allocations.models import LedgerEntry
from allocations.selectors.ledger import allocation_quota, balance
from allocations.services.quota import quota_evaluate
from allocations.tasks import quota_evaluate as quota_evaluate_task
from notifications.models import OutboxMessage
from proposals.calls.enums import QuotaPolicy
from tests.allocation_factories import add_usage, make_allocation
from tests.conftest import make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db

PEOPLE = ["coi@lab.example", "pi@uni.example"]


@pytest.fixture
def allocation(pi, coi, booster):
    """1 May 2027 to 30 April 2028, 12,000 GPU-hours of the whole period, PI and a member."""
    return make_allocation(
        pi=pi,
        awarded={booster: 12_000},
        members=[coi],
        acronym="moe",
        policy=QuotaPolicy.WHOLE_PERIOD,
    )


def mails(kind: str) -> list[tuple[str, str, str]]:
    return list(
        OutboxMessage.objects.filter(kind=kind)
        .order_by("event", "recipient")
        .values_list("event", "recipient", "subject")
    )


def test_activation_on_the_start_date_once(allocation):
    assert quota_evaluate(today=date(2027, 4, 30)).emails == 0
    assert OutboxMessage.objects.count() == 0

    summary = quota_evaluate(today=date(2027, 5, 1))

    event = f"allocation-active:{allocation.pk}"
    subject = f"[Allot] {allocation.account} is active"
    assert mails("allocation-active") == [(event, p, subject) for p in PEOPLE]
    assert summary.emails == 2
    message = OutboxMessage.objects.get(event=event, recipient="pi@uni.example")
    link = f"{settings.SITE_URL}/allocations/{allocation.pk}/"
    assert (
        f"The allocation {allocation.account} is active from 1 May 2027 to 30 Apr 2028."
        in message.body_text
    )
    assert f"The allocation: {link}\n" in message.body_text
    assert f'<a href="{link}">' in message.body_html
    assert OutboxMessage.objects.count() == 2
    assert quota_evaluate(today=date(2027, 5, 2)).emails == 0
    assert OutboxMessage.objects.count() == 2


def test_removed_member_gets_nothing(allocation, coi):
    allocation.members.filter(user=coi).update(removed_at=timezone.now())
    quota_evaluate(today=date(2027, 5, 1))
    assert [r for _, r, _ in mails("allocation-active")] == ["pi@uni.example"]


def test_thresholds_send_one_email_each(allocation, booster):
    quota_evaluate(today=date(2027, 5, 1))
    add_usage(allocation, booster, 8_999, on=date(2027, 6, 1))
    quota_evaluate(today=date(2027, 6, 2))
    assert mails("allocation-usage") == []

    add_usage(allocation, booster, 1, on=date(2027, 6, 2))  # 9,000: 75 %
    quota_evaluate(today=date(2027, 6, 3))
    quota_evaluate(today=date(2027, 6, 3))
    acct = allocation.account
    e75 = f"allocation-usage:{allocation.pk}:jupiter-booster:75"
    s75 = f"[Allot] {acct}: 75 % of JUPITER Booster used"
    assert mails("allocation-usage") == [(e75, p, s75) for p in PEOPLE]

    add_usage(allocation, booster, 1_800, on=date(2027, 7, 1))  # 10,800: 90 %
    quota_evaluate(today=date(2027, 7, 2))
    add_usage(allocation, booster, 1_200, on=date(2027, 8, 1))  # 12,000: 100 %
    assert quota_evaluate(today=date(2027, 8, 2)).emails == 2
    assert quota_evaluate(today=date(2027, 8, 3)).emails == 0

    e90 = f"allocation-usage:{allocation.pk}:jupiter-booster:90"
    e100 = f"allocation-usage:{allocation.pk}:jupiter-booster:100"
    s90 = f"[Allot] {acct}: 90 % of JUPITER Booster used"
    s100 = f"[Allot] {acct}: 100 % of JUPITER Booster used"
    assert mails("allocation-usage") == sorted(
        [(e, p, s) for e, s in [(e75, s75), (e90, s90), (e100, s100)] for p in PEOPLE]
    )
    body = OutboxMessage.objects.get(event=e90, recipient="pi@uni.example").body_text
    assert "10,800" in body and "12,000" in body
    assert mails("allocation-lowprio") == []


def test_thresholds_count_adjustments(allocation, booster):
    add_usage(allocation, booster, 9_000, on=date(2027, 6, 1))
    LedgerEntry.objects.create(
        allocation=allocation,
        resource=booster,
        kind=LedgerKind.ADJUSTMENT,
        amount=Decimal(6_000),
        reason="More",
        occurred_at=datetime.combine(
            date(2027, 5, 2), time(12), tzinfo=allocation.proposal.call.tz
        ),
    )
    quota_evaluate(today=date(2027, 6, 2))  # 9,000 of 18,000: 50 %
    assert mails("allocation-usage") == []


def test_jump_sends_only_the_highest_threshold(allocation, booster):
    add_usage(allocation, booster, 11_000, on=date(2027, 6, 1))  # 91.7 %
    quota_evaluate(today=date(2027, 6, 2))
    assert {e for e, _, _ in mails("allocation-usage")} == {
        f"allocation-usage:{allocation.pk}:jupiter-booster:90"
    }


def test_low_priority_once_per_month(pi, coi, booster):
    allocation = make_allocation(pi=pi, awarded={booster: 12_000}, members=[coi], acronym="lp")
    # Monthly: June has 1,000 + 1,000 carried from May + 1,000 to borrow; beyond: low.
    add_usage(allocation, booster, 3_500, on=date(2027, 6, 10))
    quota_evaluate(today=date(2027, 6, 15))
    quota_evaluate(today=date(2027, 6, 16))
    event = f"allocation-lowprio:{allocation.pk}:jupiter-booster:2027-06"
    subject = f"[Allot] {allocation.account}: low priority on JUPITER Booster for June 2027"
    assert mails("allocation-lowprio") == [(event, p, subject) for p in PEOPLE]

    quota_evaluate(today=date(2027, 7, 1))  # a new month at normal priority
    assert len(mails("allocation-lowprio")) == 2


def test_expiring_30_days_before_the_end(allocation):
    quota_evaluate(today=date(2028, 3, 30))
    assert mails("allocation-expiring") == []

    quota_evaluate(today=date(2028, 3, 31))  # 30 days before 30 April
    quota_evaluate(today=date(2028, 4, 30))
    event = f"allocation-expiring:{allocation.pk}"
    subject = f"[Allot] {allocation.account} ends on 30 Apr 2028"
    assert mails("allocation-expiring") == [(event, p, subject) for p in PEOPLE]
    assert mails("allocation-report-due") == []
    assert not LedgerEntry.objects.filter(kind=LedgerKind.FORFEIT).exists()


def forfeits(allocation, resource):
    return [
        (e.source.rsplit(":", 1)[1], e.amount, e.occurred_at)
        for e in LedgerEntry.objects.filter(
            allocation=allocation, resource=resource, kind=LedgerKind.FORFEIT
        ).order_by("occurred_at")
    ]


def test_each_month_forfeits_what_the_quota_table_shows_once(allocation, booster, pi):
    monthly = make_allocation(pi=pi, awarded={booster: 12_000}, acronym="mon")
    add_usage(monthly, booster, 3_000, on=date(2027, 9, 1))
    add_usage(allocation, booster, 3_000, on=date(2027, 9, 1))  # whole period
    tz = monthly.proposal.call.tz
    # May has nothing carried over, so nothing to forfeit at its end.
    assert quota_evaluate(today=date(2027, 6, 30)).forfeits == 0
    # June forfeits May's unused 1,000 carried over.
    summary = quota_evaluate(today=date(2027, 7, 1))
    again = quota_evaluate(today=date(2027, 7, 1))
    assert (summary.forfeits, again.forfeits) == (1, 0)
    assert forfeits(monthly, booster) == [
        ("2027-06", Decimal("-1000.0000"), datetime(2027, 6, 30, 23, 59, 59, tzinfo=tz))
    ]
    quota_evaluate(today=date(2028, 5, 1))
    table = allocation_quota(allocation=monthly, resource=booster, today=date(2028, 5, 1))
    written = {month: -amount for month, amount, _ in forfeits(monthly, booster)}
    assert written == {f"{m.month:%Y-%m}": m.forfeited for m in table.months if m.forfeited > 0}
    assert sum(written.values()) == table.forfeited
    assert balance(monthly, booster) == 12_000 - 3_000 - table.forfeited
    # The whole-period allocation forfeits what is left at the end, once.
    assert forfeits(allocation, booster) == [
        ("2028-04", Decimal("-9000.0000"), datetime(2028, 4, 30, 23, 59, 59, tzinfo=tz))
    ]
    assert balance(allocation, booster) == 0


def test_a_storage_resource_has_no_monthly_quota_and_forfeits_nothing(pi):
    storage = make_resource(
        "project-storage", name="Project storage", unit="TB", slurm_cluster="", charge_rule="none"
    )
    stored = make_allocation(pi=pi, awarded={storage: 30}, acronym="data")
    table = allocation_quota(allocation=stored, resource=storage, today=date(2027, 9, 1))
    assert (table.months, table.today, table.forfeited) == ([], None, 0)
    assert quota_evaluate(today=date(2028, 5, 1)).forfeits == 0
    assert balance(stored, storage) == Decimal(30)


def test_end_forfeits_once_and_asks_for_the_report(allocation, booster, pi):
    gpu = make_resource("jupiter-cpu", name="JUPITER Cluster", unit="core-hours")
    used_up = make_allocation(pi=pi, awarded={gpu: 100}, acronym="done")
    add_usage(used_up, gpu, 100, on=date(2027, 5, 3))
    quota_evaluate(today=date(2028, 5, 1))
    again = quota_evaluate(today=date(2028, 5, 2))
    assert (again.forfeits, again.emails) == (0, 0)
    table = allocation_quota(allocation=used_up, resource=gpu, today=date(2028, 5, 1))
    # Used at low priority in May: the later months' shares go unused and are forfeited.
    assert -sum(amount for _, amount, _ in forfeits(used_up, gpu)) == table.forfeited
    assert forfeits(used_up, gpu)[-1][0] == "2028-04"

    event = f"allocation-report-due:{allocation.pk}"
    subject = f"[Allot] {allocation.account}: final report due by 25 Jun 2028"
    assert [m for m in mails("allocation-report-due") if m[0] == event] == [
        (event, p, subject) for p in PEOPLE
    ]
    assert len(mails("allocation-report-due")) == 3  # and the PI of the used-up one


def test_existing_forfeit_source_is_respected(allocation, booster):
    LedgerEntry.objects.create(
        allocation=allocation,
        resource=booster,
        kind=LedgerKind.FORFEIT,
        amount=Decimal(-1),
        occurred_at=datetime.combine(
            date(2028, 4, 30), time(12), tzinfo=allocation.proposal.call.tz
        ),
        source=f"forfeit:{allocation.pk}:jupiter-booster:end",
    )
    assert quota_evaluate(today=date(2028, 5, 1)).forfeits == 0
    assert LedgerEntry.objects.filter(kind=LedgerKind.FORFEIT).count() == 1


def test_long_ended_allocations_are_left_alone(allocation):
    assert quota_evaluate(today=date(2029, 1, 1)).allocations == 0
    assert not LedgerEntry.objects.filter(kind=LedgerKind.FORFEIT).exists()


def test_queries_do_not_grow_with_allocations(pi, booster):
    def queries() -> int:
        quota_evaluate(today=date(2027, 6, 1))  # writes what there is to write
        with CaptureQueriesContext(connection) as ctx:
            quota_evaluate(today=date(2027, 6, 1))
        return len(ctx.captured_queries)

    make_allocation(pi=pi, awarded={booster: 100}, acronym="q1")
    one = queries()
    for n in range(4):
        other = make_user(f"m{n}@x.example")
        allocation = make_allocation(pi=other, awarded={booster: 100}, acronym=f"q{n + 2}")
        add_usage(allocation, booster, 80, on=date(2027, 5, 20))
    assert queries() == one


def test_task_runs_the_service(allocation):
    quota_evaluate_task.apply()  # today: no allocation of 2027 is active yet or just ended
    assert LedgerEntry.objects.filter(kind=LedgerKind.FORFEIT).count() == 0
