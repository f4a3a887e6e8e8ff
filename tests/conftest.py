"""Shared personas and fixtures (STYLE: personas built through the real code paths)."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import User

# Fixtures for tests that need a real SMTP server (smtp_server) or Celery worker (worker_runs).
pytest_plugins = ["tests.smtp", "tests.celery_worker"]

PASSWORD = "correct-horse-battery-42"
COMPLETE_PROFILE = {
    "affiliation": "Forschungszentrum Jülich",
    "country": "DE",
    "expertise": ["PE6"],
    "keywords": ["large language models", "scaling"],
}


def make_user(email: str, *, full_name: str = "", complete: bool = True, **fields) -> User:
    """A signed-up person with a verified primary address and, by default, a complete profile."""
    data = {**(COMPLETE_PROFILE if complete else {}), **fields}
    user = User.objects.create_user(
        email=email, password=PASSWORD, full_name=full_name or email.split("@")[0].title(), **data
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def make_manager(email: str = "manager@centre.example", *, with_mfa: bool = True) -> User:
    user = make_user(email, full_name="Marta Manager", affiliation="Jülich Supercomputing Centre")
    user.groups.add(Group.objects.get_or_create(name=settings.CALL_MANAGERS_GROUP)[0])
    if with_mfa:
        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def pi(db) -> User:
    return make_user("pi@uni.example", full_name="Paula Investigator", affiliation="Uni Example")


@pytest.fixture
def coi(db) -> User:
    return make_user("coi@lab.example", full_name="Carl Coinvestigator", affiliation="Lab Example")


@pytest.fixture
def reviewer(db) -> User:
    return make_user("reviewer@inst.example", full_name="Rita Reviewer", affiliation="Inst Example")


@pytest.fixture
def committee(db) -> User:
    return make_user("committee@board.example", full_name="Conrad Committee")


@pytest.fixture
def manager(db) -> User:
    return make_manager()


@pytest.fixture
def outsider(db) -> User:
    return make_user("outsider@else.example", full_name="Otto Outsider")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
