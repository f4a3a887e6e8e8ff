"""The API's lists use a constant number of queries as rows grow (PRODUCT §10)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from tests.allocation_factories import make_allocation
from tests.api.conftest import bearer, token_for
from tests.factories import make_call
from tests.proposal_factories import complete_proposal

pytestmark = pytest.mark.django_db


def _queries(client, path: str, raw: str) -> int:
    cache.clear()
    ApiToken.objects.update(last_used_at=None)  # each call records its use, as the first did
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1{path}", **bearer(raw))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/proposals", "/allocations", "/calls"])
def test_constant_queries_for_one_and_three_rows(client, pi, path):
    raw = token_for(pi)
    call = make_call()
    complete_proposal(call, pi, acronym="ONE")
    make_allocation(pi=pi)
    one = _queries(client, path, raw)
    for n in (2, 3):
        complete_proposal(make_call(f"CALL {n}"), pi, acronym=f"N{n}")
        make_allocation(pi=pi)
    assert _queries(client, path, raw) == one
