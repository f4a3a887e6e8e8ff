"""Helpers for the account tests: a clean cache (allauth keeps rate limits and used TOTP codes
there) and the links out of account emails."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.core.cache import cache

LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def _clean_cache(db):
    cache.clear()
    yield
    cache.clear()


def link_in(message: mail.EmailMessage, contains: str) -> str:
    """The path of the first link in ``message`` whose URL contains ``contains``."""
    for url in LINK.findall(message.body):
        if contains in url:
            return re.sub(r"^https?://[^/]+", "", url)
    raise AssertionError(f"no link with {contains!r} in:\n{message.body}")


def totp_code(secret: str) -> str:
    """The authenticator app's current code for ``secret``."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client, email: str, password: str):
    """Sign in through allauth's form (as a person would), so that allauth records a fresh
    authentication; returns the response."""
    return client.post("/accounts/login/", {"login": email, "password": password})
