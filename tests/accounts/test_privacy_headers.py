"""Headers of every page (issue: trust): no shared cache or browser history keeps a signed-in
page; features no page uses are refused."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize("name", ["call_list", "profile", "my_proposals"])
def test_signed_in_pages_are_private_and_not_stored(client, pi, name):
    client.force_login(pi)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert {"private", "no-store"} <= _cache_control(response)
    assert "camera=()" in response["Permissions-Policy"]


def test_a_public_page_for_an_anonymous_reader_may_be_cached(client):
    response = client.get(reverse("call_list"))

    assert response.status_code == 200
    assert "no-store" not in _cache_control(response)
    assert response["Permissions-Policy"].startswith("accelerometer=(), camera=()")


def test_a_redirect_to_sign_in_carries_the_policy_too(client):
    response = client.get(reverse("my_proposals"))

    assert response.status_code == 302
    assert "geolocation=()" in response["Permissions-Policy"]
