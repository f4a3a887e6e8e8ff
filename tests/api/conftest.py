"""Tokens for the API's tests, made through the service the profile page calls."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from api.enums import TokenScope
from api.models import ApiToken
from api.services import token_create


def token_for(user: User, scope: str = TokenScope.READ, *, days: int = 30) -> str:
    """A live token of ``user`` (a manager must come with ``second_factor_passed``, as the
    ``manager`` persona does)."""
    return token_create(user=user, name="tests", scope=scope, days=days).raw


def expired_token_for(user: User) -> str:
    """A token of ``user`` that expired a second ago."""
    raw = token_for(user)
    now = timezone.now()
    ApiToken.objects.filter(user=user).update(
        created_at=now - timedelta(days=31), expires_at=now - timedelta(seconds=1)
    )
    return raw


def bearer(raw: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}


def api_get(client: Client, path: str, raw: str | None):
    return client.get(f"/api/v1{path}", **bearer(raw))


@pytest.fixture
def api_client() -> Client:
    return Client()
