"""Uploading PDFs: checked by content against the call's limits, stored with their checksum."""

import hashlib
import re

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.submission.enums import AttachmentKind
from proposals.submission.models import Attachment
from proposals.submission.services.attachments import attachment_upload
from tests.factories import make_call
from tests.pdfs import pdf_bytes
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.people import answers, cast, close_call, login_url

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def url(proposal) -> str:
    return reverse("proposal_attachments", args=[proposal.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def stored_files() -> list:
    root = settings.MEDIA_ROOT
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(data: bytes, name: str = "description.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def call():
    return make_call(pdf_page_limit=5, pdf_size_limit_mb=1)


@pytest.fixture
def proposal(call, pi):
    return make_proposal(call, pi, title="Sparse models", acronym="SPARSE")


@pytest.fixture
def pi_client(client, pi):
    client.force_login(pi)
    return client


def test_a_valid_pdf_is_stored_with_pages_size_and_checksum(pi_client, pi, proposal):
    data = pdf_bytes(3)

    response = pi_client.post(
        url(proposal), {"kind": "description", "file": upload(data, "Project plan.pdf")}
    )

    assert response.status_code == 302
    assert response["Location"] == url(proposal)
    attachment = Attachment.objects.get()
    assert messages_of(response) == [
        f"Project description Project plan.pdf uploaded (3 pages, {len(data)}\xa0bytes)."
    ]
    assert (
        attachment.proposal,
        attachment.kind,
        attachment.original_name,
        attachment.pages,
        attachment.size,
        attachment.sha256,
        attachment.uploaded_by,
        attachment.replaced_at,
    ) == (
        proposal,
        AttachmentKind.DESCRIPTION,
        "Project plan.pdf",
        3,
        len(data),
        hashlib.sha256(data).hexdigest(),
        pi,
        None,
    )
    assert re.fullmatch(rf"proposals/{proposal.pk}/[0-9a-f]{{32}}\.pdf", attachment.file.name)
    assert stored_files() == [settings.MEDIA_ROOT / attachment.file.name]
    assert (settings.MEDIA_ROOT / attachment.file.name).read_bytes() == data


def test_a_co_investigator_uploads_a_cv(client, coi, proposal):
    add_member(proposal, coi)
    client.force_login(coi)

    response = client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(2), "cv.pdf")})

    assert response.status_code == 302
    cv = Attachment.objects.get()
    assert (cv.kind, cv.uploaded_by, cv.pages) == (AttachmentKind.CV, coi, 2)


def test_several_cvs_are_kept_side_by_side(pi_client, proposal):
    for name in ["paula.pdf", "carl.pdf"]:
        pi_client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(1), name)})

    assert list(
        Attachment.objects.filter(replaced_at__isnull=True).values_list("original_name", flat=True)
    ) == ["paula.pdf", "carl.pdf"]


def refused(response, message: str) -> None:
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assert f'<p class="error" id="id_file_error">{message}</p>' in response.content.decode()
    assert Attachment.objects.count() == 0
    assert stored_files() == []


def test_a_text_file_renamed_pdf_is_refused(pi_client, proposal):
    response = pi_client.post(
        url(proposal),
        {"kind": "description", "file": upload(b"Just some notes, not a PDF.\n" * 20, "notes.pdf")},
    )

    refused(
        response, "This file is not a PDF (whatever its name says). Export your document as PDF."
    )


def test_an_encrypted_pdf_is_refused(pi_client, proposal):
    response = pi_client.post(
        url(proposal), {"kind": "description", "file": upload(pdf_bytes(2, password="secret"))}
    )

    refused(
        response,
        "This PDF is encrypted or password-protected. Save it again without a password so that "
        "reviewers can open it.",
    )


def test_a_description_over_the_page_limit_is_refused(pi_client, proposal):
    response = pi_client.post(url(proposal), {"kind": "description", "file": upload(pdf_bytes(6))})

    refused(response, "This PDF has 6 pages; this call allows at most 5.")


def test_a_cv_over_four_pages_is_refused(pi_client, proposal):
    response = pi_client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(5))})

    refused(response, "This PDF has 5 pages; this call allows at most 4.")


def test_a_file_just_over_the_size_limit_is_skipped_on_arrival(pi_client, proposal):
    data = pdf_bytes(1, padding=MB)
    assert MB < len(data) < MB + 64 * 1024  # read, but not kept: the handler skips it

    response = pi_client.post(url(proposal), {"kind": "description", "file": upload(data)})

    refused(response, "The file is larger than 1.0\xa0MB, the most this call accepts.")


def test_a_much_larger_request_is_refused_before_it_is_read(pi_client, proposal):
    data = pdf_bytes(1, padding=3 * MB)

    response = pi_client.post(url(proposal), {"kind": "description", "file": upload(data)})

    assert response.status_code == 413
    assert response.context["form"].errors == {
        "file": ["The file is larger than 1.0\xa0MB, the most this call accepts."]
    }
    assert Attachment.objects.count() == 0
    assert stored_files() == []


def test_the_service_checks_the_size_itself(pi, proposal):
    data = pdf_bytes(1, padding=MB)

    with pytest.raises(ValidationError) as error:
        attachment_upload(proposal=proposal, by=pi, kind="description", upload=upload(data))

    size = f"{len(data) / MB:.1f}\xa0MB"
    assert error.value.message_dict == {
        "file": [f"The file is {size}; this call accepts at most 1.0\xa0MB."]
    }


def test_an_empty_file_and_no_file_are_refused(pi_client, proposal):
    empty = pi_client.post(url(proposal), {"kind": "cv", "file": upload(b"", "empty.pdf")})
    missing = pi_client.post(url(proposal), {"kind": "cv"})

    assert empty.context["form"].errors == {"file": ["The submitted file is empty."]}
    assert missing.context["form"].errors == {"file": ["This field is required."]}
    assert Attachment.objects.count() == 0


def test_an_unknown_kind_is_refused(pi_client, proposal):
    response = pi_client.post(url(proposal), {"kind": "poster", "file": upload(pdf_bytes(1))})

    assert response.context["form"].errors == {
        "kind": ["Select a valid choice. poster is not one of the available choices."]
    }
    assert Attachment.objects.count() == 0


def test_a_new_description_replaces_the_current_one_which_is_kept(pi_client, pi, proposal):
    first = pdf_bytes(2)
    pi_client.post(url(proposal), {"kind": "description", "file": upload(first, "v1.pdf")})
    old = Attachment.objects.get()

    response = pi_client.post(
        url(proposal), {"kind": "description", "file": upload(pdf_bytes(3), "v2.pdf")}
    )

    assert messages_of(response)[-1].startswith("Project description v2.pdf uploaded (3 pages,")
    assert "It replaces the earlier one" in messages_of(response)[-1]
    old.refresh_from_db()
    new = Attachment.objects.exclude(pk=old.pk).get()
    assert old.replaced_at is not None
    assert timezone.now() - old.replaced_at < timezone.timedelta(seconds=10)
    assert (new.original_name, new.replaced_at) == ("v2.pdf", None)
    assert len(stored_files()) == 2
    download = pi_client.get(reverse("attachment_download", args=[proposal.pk, old.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == first
    page = pi_client.get(url(proposal)).content.decode()
    assert "Earlier files (1)" in page


def test_the_page_lists_files_and_shows_the_limits(pi_client, pi, proposal):
    pi_client.post(url(proposal), {"kind": "description", "file": upload(pdf_bytes(2), "plan.pdf")})
    pi_client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(1), "paula-cv.pdf")})

    response = pi_client.get(url(proposal))

    html = response.content.decode()
    assert [a.original_name for a in response.context["attachments"].current] == [
        "plan.pdf",
        "paula-cv.pdf",
    ]
    assert response.context["attachments"].replaced == []
    for expected in [
        "A PDF, without a password; its content is checked, not its name. Project description: "
        "at most 5 pages and 1.0\xa0MB. CV: at most 4 pages and 1.0\xa0MB each.",
        "by Paula Investigator",
        'enctype="multipart/form-data"',
        "<legend>Kind of file</legend>",
        '<label for="id_file">PDF file',
        "Current files",
    ]:
        assert expected in html, expected
    assert "Earlier files" not in html
    assert html.count("Yes, remove") == 1  # only the CV can be removed
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels == [1, 2, 3, 3]


def test_after_a_refused_submission_the_missing_description_is_named(pi_client, proposal):
    proposal.submit_attempted_at = timezone.now()
    proposal.save(update_fields=["submit_attempted_at"])

    html = pi_client.get(url(proposal)).content.decode()

    assert "Upload the project description (PDF)." in html


def test_after_the_deadline_nothing_is_uploaded(pi_client, proposal):
    close_call(proposal.call)

    page = pi_client.get(url(proposal))
    response = pi_client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(1))})

    assert page.context["form"] is None
    assert response.status_code == 302
    assert messages_of(response) == [
        "The files can change only while the proposal is a draft and the call is open."
    ]
    assert Attachment.objects.count() == 0


def test_an_upload_without_the_csrf_token_is_refused(pi, proposal):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pi)

    response = client.post(url(proposal), {"kind": "cv", "file": upload(pdf_bytes(1))})

    assert response.status_code == 403
    assert Attachment.objects.count() == 0


def test_who_may_see_the_page(client, pi, coi, outsider, reviewer, committee, manager):
    people = cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )
    target = url(people.proposal)

    assert answers(client, people.people, "get", target) == {
        "pi": 200,
        "coi": 200,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 200,
        "anonymous": login_url(target),
    }


def test_who_may_upload(client, pi, coi, outsider, reviewer, committee, manager):
    people = cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )
    target = url(people.proposal)
    result = {}
    for role in people.people:
        result.update(
            answers(
                client,
                people.people,
                "post",
                target,
                {"kind": "cv", "file": upload(pdf_bytes(1), f"{role}.pdf")},
                roles=[role],
            )
        )

    assert result == {
        "pi": 302,
        "coi": 302,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 403,
        "anonymous": login_url(target),
    }
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == [
        "coi.pdf",
        "pi.pdf",
    ]


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_the_page_answers_get_and_post_only(pi_client, proposal, method):
    assert getattr(pi_client, method)(url(proposal)).status_code == 405


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("C:\\Users\\paula\\plan", "plan.pdf"),
        ("../../etc/plan.PDF", "plan.PDF"),
        ("line\nbreak.pdf", "linebreak.pdf"),
        ("Müller – Plan.pdf", "Müller – Plan.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_the_download_name_keeps_only_a_safe_file_name(pi, proposal, given, kept):
    file = upload(pdf_bytes(1))
    file.name = given

    attachment = attachment_upload(proposal=proposal, by=pi, kind="cv", upload=file)

    assert attachment.original_name == kept


def test_the_page_uses_the_same_queries_with_one_and_three_files(pi_client, pi, proposal):
    attachment_upload(proposal=proposal, by=pi, kind="description", upload=upload(pdf_bytes(1)))
    with CaptureQueriesContext(connection) as one:
        pi_client.get(url(proposal))
    for name in ["a.pdf", "b.pdf"]:
        attachment_upload(proposal=proposal, by=pi, kind="cv", upload=upload(pdf_bytes(1), name))
    with CaptureQueriesContext(connection) as three:
        response = pi_client.get(url(proposal))

    assert len(response.context["attachments"].current) == 3
    assert len(three) == len(one)
