"""The applicant's own lists find their rows through indexes (issue 15), on PostgreSQL.

A test database is too small for the planner to prefer an index by itself, so each query the
pages run is explained with sequential scans priced out (``enable_seqscan = off``). A scan of
one of the big tables that remains a ``Seq Scan``, or that walks a whole index (an index scan
without an index condition), means no index can serve the query: at the scale of PRODUCT §10
a read of every proposal, user or ledger row per request.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.allocation_factories import add_usage, make_allocation, this_month
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import complete_proposal
from tests.services import require_postgresql

BIG_TABLES = {
    "accounts_user",
    "proposals_proposal",
    "proposals_review",
    "allocations_allocation",
    "allocations_ledgerentry",
    "notifications_outboxmessage",
    "proposals_auditentry",
}
APPLICANT_LISTS = ["/proposals/", "/allocations/", "/calls/"]


def _whole_table_reads(node: dict) -> set[str]:
    found = set()
    table = node.get("Relation Name")
    if table in BIG_TABLES:
        kind = node["Node Type"]
        if kind == "Seq Scan" or (kind.startswith("Index") and "Index Cond" not in node):
            found.add(table)
    for child in node.get("Plans", []):
        found |= _whole_table_reads(child)
    return found


def whole_table_reads(sql: str) -> set[str]:
    """The big tables the plan of ``sql`` reads whole, with sequential scans priced out."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    if isinstance(plan, str):
        plan = json.loads(plan)
    return _whole_table_reads(plan[0]["Plan"])


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.parametrize("path", APPLICANT_LISTS)
def test_the_applicants_lists_do_not_scan_the_big_tables(client, pi, path):
    require_postgresql()
    call = make_call()
    complete_proposal(call, pi, acronym="MINE")
    for n in range(3):
        complete_proposal(call, make_user(f"other{n}@uni.example"), acronym=f"OTHER-{n}")
    allocation = make_allocation(pi=pi)
    resource = allocation.resources.get().resource
    add_usage(allocation, resource, 100, on=this_month())
    make_allocation(pi=make_user("someone@uni.example"))
    client.force_login(pi)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)

    assert response.status_code == 200
    scanned = {
        query["sql"][:120]: tables
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and (tables := whole_table_reads(query["sql"]))
    }
    assert scanned == {}
