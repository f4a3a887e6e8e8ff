"""Sign-in rate limits that hold in production (issue: trust): the counters live in a cache
every worker shares (the database, or Redis with CACHE_URL), and the client's address comes
from X-Forwarded-For only as far back as the configured number of trusted proxies."""

import pytest
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def _fail(client, email: str, **headers):
    return client.post(LOGIN, {"login": email, "password": "wrong-password"}, **headers)


def test_the_cache_is_shared_by_every_worker_never_per_process():
    backend = settings.CACHES["default"]["BACKEND"]

    assert backend in {
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
    }


def test_failed_sign_ins_are_counted_in_the_database_and_stop_the_sixth(client, pi):
    for _ in range(5):
        assert (
            "The email address and/or password you specified are not correct."
            in _fail(client, pi.email).content.decode()
        )

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM allot_cache")
        (rows,) = cursor.fetchone()
    assert rows >= 1
    assert (
        "Too many failed login attempts. Try again later."
        in _fail(client, pi.email).content.decode()
    )
    # The right password is refused too while the limit lasts.
    right = client.post(LOGIN, {"login": pi.email, "password": "correct-horse-battery-42"})
    assert right.status_code == 200
    assert "Too many failed login attempts. Try again later." in right.content.decode()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No trusted proxy: the header is the client's to invent, so it is ignored.
        (0, "6.6.6.6", "10.0.0.9"),
        # One proxy appends the address it saw; anything before it is the client's claim.
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, proxies, forwarded, expected
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")

    assert get_adapter().get_client_ip(request) == expected
