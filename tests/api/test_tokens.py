"""Personal API tokens on the profile (PRODUCT §9): created and revoked by their owner, shown
once, stored hashed, expiring, scoped, rate-limited; a revoked or expired token gets 401."""

import hashlib
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from api.enums import TokenScope
from api.models import ApiToken
from api.services import token_create, token_revoke
from tests.api.conftest import api_get, expired_token_for, token_for
from tests.conftest import force_login_without_second_factor, make_manager
from tests.factories import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _created_token(response) -> str:
    body = response.content.decode()
    start = body.index('value="allot_') + len('value="')
    return body[start : body.index('"', start)]


def test_the_profile_lists_the_tokens_and_offers_a_new_one(client, pi):
    token_create(user=pi, name="nightly report", scope=TokenScope.READ, days=30)
    client.force_login(pi)
    body = client.get("/profile/").content.decode()
    assert "API tokens" in body
    assert "nightly report" in body
    assert 'action="/profile/tokens/"' in body
    # Pushing usage is for centre staff: a researcher is not offered it.
    assert 'value="usage"' not in body


def test_a_new_token_is_shown_once_and_stored_hashed(client, pi):
    client.force_login(pi)
    response = client.post("/profile/tokens/", {"name": "laptop", "scope": "read", "days": "30"})
    raw = _created_token(response)
    assert raw.startswith("allot_")
    token = ApiToken.objects.get(user=pi)
    assert (token.name, token.scope) == ("laptop", "read")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(f"allot_{token.prefix}_")
    assert token.expires_at - token.created_at == timedelta(days=30)
    # The secret is in no column of the row, and the profile never shows it again.
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert all(raw not in str(value) for value in stored.values())
    assert raw not in client.get("/profile/").content.decode()
    assert api_get(client, "/proposals", raw).json() == []


def test_a_refused_form_keeps_what_was_typed_with_the_message_beside_the_field(client, pi):
    client.force_login(pi)
    response = client.post("/profile/tokens/", {"name": "", "scope": "usage", "days": "30"})
    body = response.content.decode()
    assert response.status_code == 200
    assert ApiToken.objects.count() == 0
    assert 'id="id_name_error"' in body
    assert 'id="id_scope_error"' in body
    response = client.post("/profile/tokens/", {"name": "x\u202ey", "scope": "read", "days": "3"})
    body = response.content.decode()
    assert 'id="id_days_error"' in body and 'id="id_name_error"' in body
    assert ApiToken.objects.count() == 0


def test_the_owner_revokes_a_token_and_it_gets_401(client, pi):
    raw = token_for(pi)
    token = ApiToken.objects.get(user=pi)
    client.force_login(pi)
    response = client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert response.headers["Location"] == "/profile/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = api_get(client, "/proposals", raw)
    assert response.status_code == 401
    assert response.json() == {"detail": "A valid token is needed: unknown, expired or revoked."}


def test_someone_elses_token_is_404_and_revoke_by_get_is_405(client, pi, outsider):
    token_for(pi)
    token = ApiToken.objects.get(user=pi)
    client.force_login(outsider)
    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    with pytest.raises(PermissionDenied):
        token_revoke(token=token, by=outsider)
    client.force_login(pi)
    assert client.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 405
    assert client.delete("/profile/tokens/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.post("/profile/tokens/", {"name": "x", "scope": "read", "days": "30"})
    assert response.headers["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == 0


def test_an_expired_token_gets_401(client, pi):
    raw = expired_token_for(pi)
    assert api_get(client, "/proposals", raw).status_code == 401


def test_unknown_and_malformed_tokens_get_401(client, pi):
    raw = token_for(pi)
    for bad in (raw[:-1] + ("A" if raw[-1] != "A" else "B"), "allot_", "allot_x_y", "nonsense", ""):
        response = client.get("/api/v1/proposals", HTTP_AUTHORIZATION=f"Bearer {bad}")
        assert response.status_code == 401, bad
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="allot"'
    assert client.get("/api/v1/proposals").status_code == 401


def test_the_last_use_is_recorded(client, pi):
    raw = token_for(pi)
    assert ApiToken.objects.get(user=pi).last_used_at is None
    before = timezone.now()
    api_get(client, "/proposals", raw)
    assert ApiToken.objects.get(user=pi).last_used_at >= before


def test_every_use_counts_against_the_rate_limit(client, pi, settings):
    settings.API_RATE_LIMIT = 3
    raw, other = token_for(pi), token_for(pi)
    statuses = [api_get(client, "/proposals", raw).status_code for _ in range(3)]
    refused = api_get(client, "/proposals", raw)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many requests" in refused.json()["detail"]
    # Another token has its own count.
    assert api_get(client, "/proposals", other).status_code == 200


def test_only_centre_staff_get_the_usage_scope(pi, manager):
    with pytest.raises(PermissionDenied):
        token_create(user=pi, name="push", scope=TokenScope.USAGE, days=30)
    new = token_create(user=manager, name="push", scope=TokenScope.USAGE, days=30)
    assert new.token.scope == "usage"


def test_a_manager_creates_tokens_only_after_the_second_factor(client, manager):
    force_login_without_second_factor(client, manager)
    response = client.post("/profile/tokens/", {"name": "x", "scope": "read", "days": "30"})
    assert response.status_code == 403
    assert "Confirm your second factor" in client.get("/profile/").content.decode()
    assert ApiToken.objects.count() == 0


def test_a_managers_token_loses_the_powers_when_the_second_factor_is_turned_off(client, manager):
    call = make_call()
    raw = token_for(manager)
    assert api_get(client, f"/calls/{call.pk}/allocations", raw).status_code == 200
    Authenticator.objects.filter(user=manager).delete()
    response = api_get(client, f"/calls/{call.pk}/allocations", raw)
    assert response.status_code == 403


def test_a_manager_without_an_authenticator_cannot_create_a_token(client):
    manager = make_manager("nomfa@centre.example", with_mfa=False)
    with pytest.raises(PermissionDenied):
        token_create(user=manager, name="x", scope=TokenScope.READ, days=30)


def test_a_read_token_cannot_push_usage(client, manager):
    raw = token_for(manager, TokenScope.READ)
    response = client.post(
        "/api/v1/usage", {"cluster": "jupiter"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This token's scope does not allow pushing usage."}
