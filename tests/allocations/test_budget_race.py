"""Two managers save awards at the same moment (PRODUCT §6: the budget holds "even when two
managers save at the same moment", enforced in the database transaction), on two real
PostgreSQL connections.

SQLite serialises writers and ignores row locks, so this only means something on PostgreSQL;
on a laptop without it the test is skipped, in CI it must run.

The call's budget is 1,000,000 and CHARLIE already holds 400,000. One thread awards ALPHA
400,000 (800,000 in all), the other BRAVO 300,000 (700,000 in all): each fits alone, together
they make 1,100,000. The budget check is held back until both savers have written (or for a
second), so that without the row lock of ``decisions_save`` both transactions write before
either checks, each sees only its own award, and both commit: the test then fails every time
(checked by removing the lock). With the lock the second saver waits for the first to commit,
and its check sees both awards.
"""

import contextlib
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine
from proposals.decisions.services import saving as decision_services
from proposals.decisions.services.budget import OverBudget
from tests.conftest import make_manager
from tests.proposals.decisions_factories import BUDGET, decide, worked_example
from tests.services import require_postgresql

AWARDED = DecisionOutcome.AWARDED


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_never_exceed_the_budget(monkeypatch):
    require_postgresql()
    manager = make_manager()
    example = worked_example()
    decide(example, manager, {"CHARLIE": (AWARDED, 400_000)})

    check = decision_services.check_budgets
    both_written = threading.Barrier(2)

    def check_once_both_wrote(call, offers):
        # Without the row lock both savers get here, after their writes, before either
        # checks: the worst interleaving, every time. With the lock the second saver is still
        # waiting for it, so the first goes on after a second (the barrier breaks, and lets
        # the second through at once when it comes).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_written.wait(timeout=1)
        check(call, offers)

    monkeypatch.setattr(decision_services, "check_budgets", check_once_both_wrote)
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(acronym: str, amount: int) -> None:
        try:
            # Connect before the start, so that both begin their transactions together.
            connection.ensure_connection()
            start.wait(timeout=10)
            decide(example, manager, {acronym: (AWARDED, amount)})
            outcomes[acronym] = "saved"
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            outcomes[acronym] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("ALPHA", 400_000)),
        threading.Thread(target=save, args=("BRAVO", 300_000)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["ALPHA", "BRAVO"]
    saved = [acronym for acronym, outcome in outcomes.items() if outcome == "saved"]
    refused = [outcome for outcome in outcomes.values() if outcome != "saved"]
    assert len(saved) == 1, outcomes
    assert len(refused) == 1 and isinstance(refused[0], OverBudget), outcomes
    assert refused[0].messages == [
        "JUPITER Booster: the awards add up to 1,100,000 GPU-hours, more than the budget of "
        "1,000,000 GPU-hours. Nothing was saved."
    ]
    total = AwardLine.objects.filter(decision__proposal__call=example.call).aggregate(
        total=Sum("amount")
    )["total"]
    assert total <= BUDGET
    assert total == Decimal(400_000) + {"ALPHA": 400_000, "BRAVO": 300_000}[saved[0]]
    awarded = set(
        AwardLine.objects.filter(decision__proposal__call=example.call).values_list(
            "decision__proposal__acronym", flat=True
        )
    )
    assert awarded == {"CHARLIE", saved[0]}
