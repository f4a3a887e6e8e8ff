"""Every kind of email is in ``EmailKind``, and every kind has its three templates."""

from pathlib import Path

import pytest
from django.conf import settings

from notifications.enums import EmailKind

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"


def test_every_template_folder_is_a_kind_and_every_kind_has_a_folder():
    folders = {path.name for path in EMAILS.iterdir() if path.is_dir()}

    assert folders == set(EmailKind.values)


@pytest.mark.parametrize("kind", EmailKind.values)
def test_each_kind_has_a_subject_a_text_and_an_html_body(kind):
    files = {path.name for path in (EMAILS / kind).iterdir()}

    assert {"subject.txt", "body.txt", "body.html"} <= files
