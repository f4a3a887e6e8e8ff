"""PRODUCT §1.1: no log holds a secret link — Django's records and gunicorn's access log."""

import logging
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from django.urls import reverse
from gunicorn.config import Config

import config.settings
from accounts.redaction import redact_secret_links
from config.gunicorn import RedactingLogger
from config.logging import SecretLinkFilter

SECRET = "Zq8-secret_Token42"
SECRET_LINKS = [
    reverse("invitation", args=[SECRET]),
    reverse("account_confirm_email", args=[f"MQ:1tAbcd:{SECRET}"]),
    reverse("account_reset_password_from_key", kwargs={"uidb36": "2f", "key": f"c9k-{SECRET}"}),
]


@pytest.mark.parametrize("path", SECRET_LINKS)
@pytest.mark.parametrize(
    "shape",
    [
        "GET {path} HTTP/1.1",
        "Not Found: {path}",
        "https://allot.example{path}",
        "/accounts/login/?{next}",
        "/accounts/signup/?{next}&process=login",
    ],
)
def test_every_secret_link_is_redacted(path, shape):
    text = shape.format(path=path, next=urlencode({"next": path}))

    redacted = redact_secret_links(text)

    assert SECRET not in redacted
    assert "[secret]" in redacted


def test_other_paths_are_left_alone():
    text = "GET /proposals/12/team/?page=2 HTTP/1.1 /accounts/password/reset/ /invitations"

    assert redact_secret_links(text) == text


def test_the_filter_redacts_a_record_and_its_arguments():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (SECRET_LINKS[0],), None
    )

    assert SecretLinkFilter().filter(record) is True
    assert record.getMessage() == "Not Found: /invitations/[secret]/"


def test_the_console_handler_of_the_settings_filters_secret_links():
    logging_config = config.settings.LOGGING

    assert logging_config["handlers"]["console"]["filters"] == ["secret_links"]
    assert logging_config["filters"]["secret_links"]["()"] == "config.logging.SecretLinkFilter"


def test_gunicorn_access_log_leaves_out_the_secret():
    logger = RedactingLogger(Config())
    path = SECRET_LINKS[2]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode({"next": SECRET_LINKS[0]}),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://allot.example" + quote(SECRET_LINKS[1]),
        "REMOTE_ADDR": "203.0.113.5",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", path)])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))

    assert not [key for key, value in atoms.items() if SECRET in str(value)]
    assert atoms["U"] == "/accounts/password/reset/key/[secret]/"
