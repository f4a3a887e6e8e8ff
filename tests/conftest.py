"""Shared personas and fixtures (STYLE: personas built through the real code paths)."""

import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from accounts.models import User
from accounts.rules import has_mfa

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
    """A call manager. With an authenticator (the default) the returned object acts as one
    whose session passed the second factor, as ``request.user`` would after a full sign-in,
    so services may be called with ``by=manager``; ``client.force_login`` signs them in with
    it (``_sign_ins_include_the_second_factor``)."""
    user = make_user(email, full_name="Marta Manager", affiliation="Jülich Supercomputing Centre")
    user.groups.add(Group.objects.get_or_create(name=settings.CALL_MANAGERS_GROUP)[0])
    if with_mfa:
        TOTP.activate(user, generate_totp_secret())
        user.second_factor_passed = True
    return user


def record_second_factor(client, user: User) -> None:
    """Record in ``client``'s session that ``user`` passed the second factor, as allauth's
    sign-in with an authenticator code does (the records SecondFactorMiddleware reads)."""
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "email": user.email},
        {"method": "mfa", "at": time.time(), "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


@pytest.fixture(autouse=True)
def _sign_ins_include_the_second_factor(monkeypatch):
    """``client.force_login(user)`` stands for a full sign-in through allauth's form, which for
    someone with an authenticator includes its code (PRODUCT §1.1). Tests of a session without
    it sign in a manager who has no authenticator, or call ``force_login_without_second_factor``."""
    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        if has_mfa(user):
            record_second_factor(self, user)

    monkeypatch.setattr(Client, "_login", _login)


def force_login_without_second_factor(client, user: User) -> None:
    """A session signed in with the password only (e.g. from before the authenticator)."""
    client.force_login(user)
    session = client.session
    session.pop(AUTHENTICATION_METHODS_SESSION_KEY, None)
    session.save()


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


def make_superuser(email: str = "admin@centre.example") -> User:
    """An operator for the Django admin, with the authenticator every superuser needs there
    (PRODUCT §1.1); ``client.force_login`` signs them in with it."""
    user = make_user(email, full_name="Olga Operator", is_staff=True, is_superuser=True)
    TOTP.activate(user, generate_totp_secret())
    user.second_factor_passed = True
    return user


@pytest.fixture
def admin_user(db) -> User:
    """pytest-django's superuser (behind its ``admin_client``)."""
    return make_superuser()


@pytest.fixture
def outsider(db) -> User:
    return make_user("outsider@else.example", full_name="Otto Outsider")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture(autouse=True)
def _each_test_starts_in_the_default_language():
    """A request in German leaves German active in its thread (Django's LocaleMiddleware does
    not switch back), and so does ``translation.activate``: the next test on the same worker
    would read German messages where it expects English."""
    yield
    translation.deactivate()


# --- Append-only tables and the flush of transactional tests on SQLite ------------------------
# The ledger and the audit trail refuse DELETE with triggers (PRODUCT §9). A transactional test
# (live server, browser) ends with Django's flush: TRUNCATE on PostgreSQL, which the row
# triggers do not see, but DELETE on SQLite, which they refuse. So on SQLite, and only around
# that flush, the DELETE triggers are dropped, and put back before the next test.
_SQLITE_DELETE_TRIGGERS: dict[str, str] = {}


def _sqlite_delete_triggers(connection) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'allot%' AND sql LIKE '%BEFORE DELETE%'"
        )
        return dict(cursor.fetchall())


@pytest.fixture(autouse=True)
def _append_only_tables_let_the_flush_through(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if not (
        transactional
        or "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
    ):
        yield
        return
    from django.db import connection

    request.getfixturevalue("transactional_db")
    if connection.vendor != "sqlite":
        yield
        return
    present = _sqlite_delete_triggers(connection)
    _SQLITE_DELETE_TRIGGERS.update(present)
    with connection.cursor() as cursor:
        for name, sql in _SQLITE_DELETE_TRIGGERS.items():
            if name not in present:
                cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for name in _SQLITE_DELETE_TRIGGERS:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
