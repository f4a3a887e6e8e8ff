"""Checks for the services some tests need (PostgreSQL, Redis, Chromium).

On a laptop without one, those tests are skipped with the reason. In CI
(``ALLOT_REQUIRE_SERVICES=true``) a missing service is a failure, never a skip.
"""

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest
from django.db import connection

REQUIRED = os.environ.get("ALLOT_REQUIRE_SERVICES", "").lower() == "true"
CHROMIUM = os.environ.get("ALLOT_CHROMIUM", "/usr/bin/chromium")
REDIS_URL = os.environ.get("ALLOT_TEST_REDIS_URL") or os.environ.get(
    "CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"
)


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (ALLOT_REQUIRE_SERVICES is on, so this is a failure)")
    pytest.skip(reason)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_redis() -> str:
    if not _reachable(REDIS_URL, 6379):
        missing(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        missing("this test needs PostgreSQL: set DATABASE_URL=postgres://…")


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def require_gettext() -> None:
    if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
        missing("GNU gettext (msgfmt, xgettext) is not installed (apt-get install gettext)")
