"""Downloads go through a permission check, as attachments; files have no public URL."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from proposals.submission.services.attachments import attachment_upload
from proposals.submission.services.lifecycle import proposal_submit
from tests.factories import make_call
from tests.pdfs import pdf_bytes
from tests.proposal_factories import add_call_role, add_description, complete_proposal
from tests.proposals.people import answers, cast, login_url

pytestmark = pytest.mark.django_db


def url(attachment) -> str:
    return reverse("attachment_download", args=[attachment.proposal_id, attachment.pk])


@pytest.fixture
def people(pi, coi, outsider, reviewer, committee, manager):
    return cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )


@pytest.fixture
def description(people):
    return add_description(people.proposal, pages=2, name="Projektbeschreibung.pdf")


@pytest.mark.parametrize("role", ["pi", "coi", "manager"])
def test_the_file_comes_as_a_pdf_download(client, people, description, role):
    client.force_login(people.people[role])

    response = client.get(url(description))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Projektbeschreibung.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert body == (settings.MEDIA_ROOT / description.file.name).read_bytes()
    assert len(body) == description.size


def test_who_may_download(client, people, description):
    target = url(description)

    result = answers(client, people.people, "get", target)

    assert result == {
        "pi": 200,
        "coi": 200,
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 200,
        "anonymous": login_url(target),
    }


def test_a_replaced_description_stays_downloadable(client, people, description):
    attachment_upload(
        proposal=people.proposal,
        by=people.people["pi"],
        kind="description",
        upload=SimpleUploadedFile("second.pdf", pdf_bytes(3)),
    )
    description.refresh_from_db()
    assert description.replaced_at is not None
    client.force_login(people.people["coi"])

    response = client.get(url(description))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Projektbeschreibung.pdf"'


def test_an_attachment_of_another_proposal_is_404(client, people, description):
    theirs = add_description(people.other_proposal, name="theirs.pdf")
    client.force_login(people.people["pi"])

    # The PI's own proposal id with the other proposal's attachment id.
    response = client.get(reverse("attachment_download", args=[people.proposal.pk, theirs.pk]))

    assert response.status_code == 404


def test_an_unknown_attachment_is_404(client, people, description):
    client.force_login(people.people["pi"])

    response = client.get(reverse("attachment_download", args=[people.proposal.pk, 9999]))

    assert response.status_code == 404


def test_a_file_missing_on_disk_is_404_not_500(client, people, description):
    (settings.MEDIA_ROOT / description.file.name).unlink()
    client.force_login(people.people["pi"])

    assert client.get(url(description)).status_code == 404


def test_a_name_beyond_ascii_is_encoded_for_the_browser(client, people):
    attachment = add_description(people.proposal, name="Beschreibung – Müller.pdf")
    client.force_login(people.people["pi"])

    response = client.get(url(attachment))

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Beschreibung%20%E2%80%93%20M%C3%BCller.pdf"
    )


def test_files_are_not_reachable_under_media_or_static_urls(client, people, description):
    client.force_login(people.people["pi"])

    for path in [
        f"/media/{description.file.name}",
        f"/{description.file.name}",
        f"/static/{description.file.name}",
        f"/uploads/{description.file.name}",
    ]:
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_download_answers_get_only(client, people, description, method):
    client.force_login(people.people["pi"])

    assert getattr(client, method)(url(description)).status_code == 405


def test_the_committee_downloads_the_description_of_a_submitted_proposal(
    client, call_with_committee
):
    call, pi, committee = call_with_committee
    proposal = complete_proposal(call, pi)
    proposal_submit(proposal=proposal, by=pi)
    description = proposal.attachments.get(kind="description")
    client.force_login(committee)

    response = client.get(url(description))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == description.file.open("rb").read()


@pytest.fixture
def call_with_committee(pi, committee):
    call = make_call()
    add_call_role(call, committee)
    return call, pi, committee
