"""The whole OpenAPI schema, run property-based by Schemathesis against the app through WSGI
(offline, in-process): for every operation, generated requests with a live token of a person
who sees things (a manager with the usage scope, the PI of a proposal and an allocation)
never get a 5xx, and every response matches the schema (status, content type, body).
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.enums import TokenScope
from config.wsgi import application
from tests.allocation_factories import make_allocation
from tests.api.conftest import token_for
from tests.factories import make_call
from tests.proposal_factories import complete_proposal

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def _connection_kept_across_requests():
    """The test's database transaction must outlive each request, as with Django's test
    client: the WSGI handler would otherwise close the connection when a request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def people(db, pi, manager, settings, _connection_kept_across_requests):
    settings.API_RATE_LIMIT = 1_000_000
    cache.clear()
    call = make_call()
    complete_proposal(call, pi, acronym="SCHEMA")
    make_allocation(pi=pi)
    return {"manager": token_for(manager, TokenScope.USAGE), "pi": token_for(pi)}


@pytest.mark.parametrize("persona", ["manager", "pi"])
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case, people, persona):
    # A push names a cluster that matches the schema's pattern; one that no resource is on is
    # refused with 400 by design (PRODUCT §8), so schema-valid pushes may be rejected.
    excluded = [positive_data_acceptance] if case.path == "/api/v1/usage" else []
    case.call_and_validate(
        headers={"Authorization": f"Bearer {people[persona]}"}, excluded_checks=excluded
    )
