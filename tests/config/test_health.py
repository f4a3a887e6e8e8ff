"""GET /healthz answers with the database's and the broker's state."""

import json
import subprocess
import sys

import pytest

from tests.config.test_settings import ROOT
from tests.services import require_redis


def test_healthy_with_inline_tasks(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "inline"}
    assert "no-cache" in response.headers["Cache-Control"]


def test_wrong_method_is_refused(client, db):
    assert client.post("/healthz").status_code == 405


@pytest.mark.services
def test_reports_a_reachable_broker(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = require_redis()
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_reports_an_unreachable_broker_but_stays_up(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error: ")


PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_unreachable_database_answers_503():
    """A real PostgreSQL address where nothing listens: the database is down."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/allot?connect_timeout=2",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["database"].startswith("error: ")
    assert answer["body"]["broker"] == "inline"
