"""Reference numbers under concurrent submissions, on real PostgreSQL connections.

SQLite serialises writers and ignores row locks, so this only means something on PostgreSQL;
on a laptop without it the test is skipped, in CI it must run.
"""

import threading

import pytest
from django.db import connection

from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import complete_proposal
from tests.services import require_postgresql

SUBMITTERS = 20


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_get_distinct_consecutive_references():
    require_postgresql()
    call = make_call(reference_prefix="JUP27-1")
    proposals = [
        complete_proposal(call, make_user(f"pi{n}@uni.example"), acronym=f"RUSH-{n}")
        for n in range(SUBMITTERS)
    ]
    start = threading.Barrier(SUBMITTERS)
    errors: list[BaseException] = []

    def submit(proposal: Proposal) -> None:
        try:
            start.wait(timeout=10)
            proposal_submit(proposal=proposal, by=proposal.pi)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(p,)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    references = sorted(Proposal.objects.filter(call=call).values_list("reference", flat=True))
    assert references == [f"JUP27-1-{n:04d}" for n in range(1, SUBMITTERS + 1)]
    call.refresh_from_db()
    assert call.last_reference_number == SUBMITTERS
