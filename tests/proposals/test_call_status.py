"""A call's status follows the clock, to the second (PRODUCT §3)."""

from datetime import UTC, datetime, timedelta

import pytest

from proposals.calls.enums import CallStatus
from proposals.calls.models import Call
from tests.factories import make_call

OPENS = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
CLOSES = datetime(2027, 2, 1, 16, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def call(db):
    return make_call(
        opens_at=OPENS,
        closes_at=CLOSES,
        review_due_at=CLOSES + timedelta(days=30),
        decisions_due_at=CLOSES + timedelta(days=60),
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (OPENS - SECOND, CallStatus.UPCOMING),
        (OPENS, CallStatus.OPEN),
        (OPENS + SECOND, CallStatus.OPEN),
        (CLOSES - SECOND, CallStatus.OPEN),
        (CLOSES, CallStatus.CLOSED),
        (CLOSES + SECOND, CallStatus.CLOSED),
    ],
)
def test_status_at_boundary_instants(call, now, expected):
    assert call.status_at(now) == expected


@pytest.mark.parametrize(
    ("now", "listed"),
    [
        (OPENS - SECOND, True),
        (OPENS, True),
        (CLOSES - SECOND, True),
        (CLOSES, False),
        (CLOSES + SECOND, False),
    ],
)
def test_publicly_listed_matches_status_at_the_deadline(call, now, listed):
    assert (call in Call.objects.publicly_listed(now)) is listed
    assert (call in Call.objects.past(now)) is not listed


def test_published_decisions_make_a_call_decided(call):
    call.decisions_published_at = CLOSES + timedelta(days=50)
    assert call.status_at(CLOSES + timedelta(days=51)) == CallStatus.DECIDED


def test_an_archived_call_is_archived_whatever_the_clock(call):
    call.archived_at = OPENS
    assert call.status_at(OPENS + SECOND) == CallStatus.ARCHIVED
