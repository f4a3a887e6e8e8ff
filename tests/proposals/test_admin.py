"""Resources and calls in the Django admin, for operators."""

import pytest
from django.urls import reverse

from tests.conftest import make_superuser
from tests.factories import make_call


@pytest.fixture
def admin_client(client, db):
    operator = make_superuser("ops@centre.example")
    client.force_login(operator)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "admin:proposals_call_changelist",
        "admin:proposals_call_add",
        "admin:proposals_callrole_changelist",
        "admin:allocations_resource_changelist",
        "admin:allocations_resource_add",
    ],
)
def test_admin_pages_open(admin_client, name):
    make_call()

    assert admin_client.get(reverse(name)).status_code == 200


def test_call_change_page_has_budgets_criteria_and_people_inline(admin_client):
    call = make_call()

    html = admin_client.get(reverse("admin:proposals_call_change", args=[call.pk])).content.decode()

    assert 'id="call_resources-group"' in html
    assert 'id="criteria-group"' in html
    assert 'id="roles-group"' in html
