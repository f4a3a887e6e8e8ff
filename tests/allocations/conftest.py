"""Fixtures the allocation tests share."""

import pytest

from tests.factories import make_resource


@pytest.fixture
def manager_client(client, manager):
    """A call manager signed in."""
    client.force_login(manager)
    return client


@pytest.fixture
def booster():
    """The JUPITER Booster: GPU-hours, the gpu rule."""
    return make_resource()
