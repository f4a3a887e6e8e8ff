"""Settings come from the environment, parsed strictly, safe by default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _ALLOT_VARIABLES}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


_ALLOT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "ALLOWED_HOSTS",
    "EMAIL_BACKEND",
}


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("False", False), ("TRUE", True)])
def test_env_bool_accepts_true_and_false(monkeypatch, raw, expected):
    monkeypatch.setenv("ALLOT_FLAG", raw)
    assert env_bool("ALLOT_FLAG", default=not expected) is expected


@pytest.mark.parametrize("raw", ["ture", "1", "0", "yes", "no", "on", "off"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("ALLOT_FLAG", raw)
    with pytest.raises(
        ImproperlyConfigured, match=f"ALLOT_FLAG must be true or false, not '{raw}'"
    ):
        env_bool("ALLOT_FLAG", default=False)


def test_env_int_refuses_words(monkeypatch):
    monkeypatch.setenv("ALLOT_PORT", "twenty-five")
    with pytest.raises(ImproperlyConfigured, match="ALLOT_PORT must be a whole number"):
        env_int("ALLOT_PORT", default=25)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("ALLOT_HOSTS", " a.example, b.example ,,")
    assert env_list("ALLOT_HOSTS", default=[]) == ["a.example", "b.example"]


def test_secret_read_from_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("ALLOT_SECRET_FILE", str(secret))
    monkeypatch.setenv("ALLOT_SECRET", "ignored-when-a-file-is-given")
    assert env_str("ALLOT_SECRET") == "s3cret-from-file"


def test_unreadable_secret_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLOT_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="ALLOT_SECRET_FILE"):
        env_str("ALLOT_SECRET")


def test_postgres_url_is_parsed(tmp_path):
    config = parse_database_url("postgres://allot:p%40ss@db.example:6543/allot", tmp_path)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("allot", "allot", "p@ss")
    assert (config["HOST"], config["PORT"]) == ("db.example", "6543")


def test_relative_and_absolute_sqlite_urls(tmp_path):
    assert parse_database_url("sqlite:///db.sqlite3", tmp_path)["NAME"] == str(
        tmp_path / "db.sqlite3"
    )
    assert (
        parse_database_url("sqlite:////var/lib/allot.db", tmp_path)["NAME"] == "/var/lib/allot.db"
    )


def test_unknown_database_scheme_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        parse_database_url("mysql://root@localhost/allot", tmp_path)


def test_missing_secret_key_without_debug_refuses_to_start():
    result = run_manage("check", env={})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_makemigrations_check_needs_no_secret_key(tmp_path):
    result = run_manage(
        "makemigrations",
        "--check",
        "--dry-run",
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected")


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "SECRET_KEY": "a-long-random-production-secret-" + "x7Q!kz9#Lm2@" * 4,
            "ALLOWED_HOSTS": "allot.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_responses_carry_a_content_security_policy(client, db):
    response = client.get("/calls/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
