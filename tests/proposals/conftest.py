"""Signed-in clients for the call pages' tests."""

import pytest


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def pi_client(client, pi):
    client.force_login(pi)
    return client
