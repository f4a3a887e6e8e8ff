"""Removing a CV while the proposal can change; a CV in a submitted version is kept."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from proposals.submission.models import Attachment, ProposalVersion
from proposals.submission.services.attachments import attachment_remove, attachment_upload
from tests.pdfs import pdf_bytes
from tests.proposal_factories import add_description
from tests.proposals.people import ROLES, answers, cast, close_call, login_url

pytestmark = pytest.mark.django_db


def url(attachment) -> str:
    return reverse("attachment_remove", args=[attachment.proposal_id, attachment.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def people(pi, coi, outsider, reviewer, committee, manager):
    return cast(
        pi=pi, coi=coi, outsider=outsider, reviewer=reviewer, committee=committee, manager=manager
    )


def upload_cv(people, name: str = "cv.pdf") -> Attachment:
    return attachment_upload(
        proposal=people.proposal,
        by=people.people["pi"],
        kind="cv",
        upload=SimpleUploadedFile(name, pdf_bytes(2)),
    )


def test_a_cv_is_removed_with_its_file(client, people, django_capture_on_commit_callbacks):
    cv = upload_cv(people)
    path = settings.MEDIA_ROOT / cv.file.name
    client.force_login(people.people["coi"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(cv))

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_attachments", args=[people.proposal.pk])
    assert messages_of(response) == ["CV cv.pdf removed."]
    assert Attachment.objects.count() == 0
    assert not path.exists()


def test_a_cv_in_a_submitted_version_is_kept_as_earlier_file(people):
    cv = upload_cv(people)
    ProposalVersion.objects.create(
        proposal=people.proposal,
        number=1,
        snapshot={"attachments": [{"id": cv.pk}]},
        submitted_at=timezone.now() + timedelta(seconds=1),
        submitted_by=people.people["pi"],
    )

    deleted = attachment_remove(attachment=cv, by=people.people["pi"])

    cv.refresh_from_db()
    assert deleted is False
    assert cv.replaced_at is not None
    assert (settings.MEDIA_ROOT / cv.file.name).exists()


def test_the_description_cannot_be_removed(client, people):
    description = add_description(people.proposal)
    client.force_login(people.people["pi"])

    response = client.post(url(description))

    assert messages_of(response) == [
        "The project description cannot be removed; upload a new one to replace it."
    ]
    assert Attachment.objects.count() == 1


def test_a_removed_cv_cannot_be_removed_again(people):
    cv = upload_cv(people)
    ProposalVersion.objects.create(
        proposal=people.proposal,
        number=1,
        snapshot={},
        submitted_at=timezone.now() + timedelta(seconds=1),
        submitted_by=people.people["pi"],
    )
    attachment_remove(attachment=cv, by=people.people["pi"])

    with pytest.raises(ValidationError) as error:
        attachment_remove(attachment=cv, by=people.people["pi"])

    assert error.value.messages == ["This CV was removed already."]


def test_after_the_deadline_nothing_is_removed(client, people):
    cv = upload_cv(people)
    close_call(people.call)
    client.force_login(people.people["pi"])

    response = client.post(url(cv))

    assert messages_of(response) == [
        "The files can change only while the proposal is a draft and the call is open."
    ]
    assert Attachment.objects.count() == 1


def test_a_cv_of_another_proposal_is_404(client, people):
    theirs = attachment_upload(
        proposal=people.other_proposal,
        by=people.people["applicant"],
        kind="cv",
        upload=SimpleUploadedFile("theirs.pdf", pdf_bytes(1)),
    )
    client.force_login(people.people["pi"])

    response = client.post(reverse("attachment_remove", args=[people.proposal.pk, theirs.pk]))

    assert response.status_code == 404
    assert Attachment.objects.filter(pk=theirs.pk).exists()


def test_who_may_remove(client, people):
    cv = upload_cv(people)
    target = url(cv)

    # The PI and the co-investigator would remove it: checked with their own CVs below.
    result = answers(client, people.people, "post", target, roles=ROLES[2:])

    assert result == {
        "invited": 404,
        "applicant": 404,
        "reviewer": 404,
        "committee": 404,  # a draft stays the team's own until it is submitted
        "manager": 403,
        "anonymous": login_url(target),
    }
    assert Attachment.objects.filter(pk=cv.pk).exists()
    for role in ("pi", "coi"):
        own = upload_cv(people, f"{role}.pdf")
        assert answers(client, people.people, "post", url(own), roles=[role]) == {role: 302}
        assert not Attachment.objects.filter(pk=own.pk).exists()


def test_remove_answers_only_post(client, people):
    cv = upload_cv(people)
    client.force_login(people.people["pi"])

    assert client.get(url(cv)).status_code == 405
