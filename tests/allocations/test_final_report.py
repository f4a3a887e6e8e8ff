"""The final report (PRODUCT §8): a PDF (checked by its content, at most 20 MB, any number of
pages) that the PI uploads from the period's last day; due 8 weeks after it; accepted late and
marked so; downloads only for those who may see the allocation."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from allocations.models import FinalReport
from allocations.selectors.researcher import ReportState, local_today, report_status
from allocations.services import reports as services_reports
from allocations.services.reports import final_report_upload
from proposals.calls.models import AuditEntry
from tests.allocation_factories import make_allocation
from tests.conftest import make_manager
from tests.pdfs import pdf_bytes

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def ended(pi, *, days_ago: int, members=()):
    """An allocation of a year whose last day was ``days_ago`` days ago (0: today)."""
    end = timezone.localdate() - timedelta(days=days_ago)
    return make_allocation(
        pi=pi, start=end - timedelta(days=364), end=end, members=list(members), acronym="moe"
    )


@pytest.fixture
def allocation(pi, coi):
    """Ended ten days ago: the report is due in 46 days."""
    return ended(pi, days_ago=10, members=[coi])


def pdf(name: str = "report.pdf", pages: int = 30, **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(pages, **kwargs), content_type="application/pdf")


def day(value) -> str:
    return value.strftime("%-d %b %Y")


# --- The service -----------------------------------------------------------------------------


def test_the_pi_uploads_the_report(allocation, pi):
    upload = pdf("Final report.pdf", pages=30)
    data = upload.read()

    report = final_report_upload(allocation=allocation, by=pi, upload=upload)

    assert (report.original_name, report.pages, report.size, report.uploaded_by) == (
        "Final report.pdf",
        30,
        len(data),
        pi,
    )
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.file.name.startswith(f"final-reports/{allocation.pk}/")
    with report.file.open("rb") as handle:
        assert handle.read() == data
    entry = AuditEntry.objects.get(action="allocation.final_report_uploaded")
    assert (entry.subject_id, entry.actor, entry.after["late"], entry.after["pages"]) == (
        allocation.pk,
        pi,
        False,
        30,
    )
    status = report_status(allocation, report, local_today(allocation))
    assert status.state == ReportState.RECEIVED


def test_uploads_open_on_the_periods_last_day(pi):
    allocation = ended(pi, days_ago=0)

    report = final_report_upload(allocation=allocation, by=pi, upload=pdf())

    assert report.pk is not None


def test_before_the_last_day_the_refusal_says_when(pi):
    allocation = ended(pi, days_ago=-1)  # the period ends tomorrow

    with pytest.raises(ValidationError) as refused:
        final_report_upload(allocation=allocation, by=pi, upload=pdf())

    assert refused.value.messages == [
        f"The final report can be uploaded from the period's last day, {day(allocation.end)}. "
        f"It is due by {day(allocation.end + timedelta(weeks=8))}."
    ]
    assert FinalReport.objects.count() == 0


def test_a_late_report_is_accepted_and_marked_late(pi):
    allocation = ended(pi, days_ago=60)  # due four days ago

    report = final_report_upload(allocation=allocation, by=pi, upload=pdf())

    assert report_status(allocation, report, local_today(allocation)).state == ReportState.LATE
    entry = AuditEntry.objects.get(action="allocation.final_report_uploaded")
    assert entry.after["late"] is True


def test_a_new_upload_replaces_the_old_one_and_its_file(
    allocation, pi, django_capture_on_commit_callbacks
):
    first = final_report_upload(allocation=allocation, by=pi, upload=pdf("draft.pdf"))
    storage, old_name = first.file.storage, first.file.name

    with django_capture_on_commit_callbacks(execute=True):
        second = final_report_upload(allocation=allocation, by=pi, upload=pdf("final.pdf", 2))

    assert list(FinalReport.objects.values_list("original_name", flat=True)) == ["final.pdf"]
    assert second.pages == 2
    assert not storage.exists(old_name)
    entry = AuditEntry.objects.filter(action="allocation.final_report_uploaded").latest("pk")
    assert entry.before == {"sha256": first.sha256}


def test_a_file_that_is_not_a_pdf_is_refused(allocation, pi):
    upload = SimpleUploadedFile("report.pdf", b"Just some text, not a PDF.", "application/pdf")

    with pytest.raises(ValidationError) as refused:
        final_report_upload(allocation=allocation, by=pi, upload=upload)

    assert refused.value.message_dict == {
        "file": ["This file is not a PDF (whatever its name says). Export your document as PDF."]
    }
    assert FinalReport.objects.count() == 0


def test_an_encrypted_pdf_is_refused(allocation, pi):
    with pytest.raises(ValidationError) as refused:
        final_report_upload(allocation=allocation, by=pi, upload=pdf(password="secret"))

    assert [error.code for error in refused.value.error_dict["file"]] == ["encrypted"]


def test_a_file_over_the_size_limit_is_refused(allocation, pi, monkeypatch):
    monkeypatch.setattr(services_reports, "FINAL_REPORT_MAX_BYTES", 1_000)

    with pytest.raises(ValidationError) as refused:
        final_report_upload(allocation=allocation, by=pi, upload=pdf(padding=2_000))

    assert [error.code for error in refused.value.error_dict["file"]] == ["too_large"]
    assert FinalReport.objects.count() == 0


def test_the_limit_is_20_mb_and_there_is_no_page_limit(allocation, pi):
    assert services_reports.FINAL_REPORT_MAX_BYTES == 20 * MB

    report = final_report_upload(allocation=allocation, by=pi, upload=pdf(pages=400))

    assert report.pages == 400


def test_only_the_pi_uploads(allocation, coi):
    for person in [coi, make_manager()]:
        with pytest.raises(PermissionDenied):
            final_report_upload(allocation=allocation, by=person, upload=pdf())


# --- The page --------------------------------------------------------------------------------


def page_url(allocation) -> str:
    return reverse("allocation_report", args=[allocation.pk])


def download_url(allocation) -> str:
    return reverse("allocation_report_download", args=[allocation.pk])


def test_before_the_end_the_page_says_when_it_will_be_due(client, pi):
    allocation = ended(pi, days_ago=-30)
    client.force_login(pi)

    page = client.get(page_url(allocation)).content.decode()

    due = day(allocation.end + timedelta(weeks=8))
    assert (
        f"The final report will be due by {due}, eight weeks after the period ends. You can "
        f"upload it from {day(allocation.end)}, the period's last day." in page
    )
    assert 'type="file"' not in page


def test_the_pi_uploads_through_the_page(client, allocation, pi):
    client.force_login(pi)
    page = client.get(page_url(allocation)).content.decode()
    assert f"The final report is due by {day(allocation.end + timedelta(weeks=8))}." in page

    response = client.post(page_url(allocation), {"file": pdf("Report.pdf", 3)}, follow=True)

    assert response.redirect_chain == [(page_url(allocation), 302)]
    page = response.content.decode()
    assert "Final report Report.pdf uploaded (3 pages," in page
    assert '<span class="badge badge-success">Received</span>' in page
    assert download_url(allocation) in page


def test_a_late_upload_shows_as_late(client, pi):
    allocation = ended(pi, days_ago=70)
    client.force_login(pi)
    page = client.get(page_url(allocation)).content.decode()
    assert "The final report is overdue" in page

    response = client.post(page_url(allocation), {"file": pdf()}, follow=True)

    assert '<span class="badge badge-warning">Received late</span>' in response.content.decode()


def test_not_a_pdf_is_refused_on_the_page(client, allocation, pi):
    client.force_login(pi)
    upload = SimpleUploadedFile("report.pdf", b"<html>not a pdf</html>", "application/pdf")

    response = client.post(page_url(allocation), {"file": upload})

    assert response.status_code == 200
    assert "This file is not a PDF (whatever its name says)." in response.content.decode()
    assert FinalReport.objects.count() == 0


def test_a_body_far_over_the_limit_is_refused_unread(client, allocation, pi):
    client.force_login(pi)
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (21 * MB), "application/pdf")

    response = client.post(page_url(allocation), {"file": big})

    assert response.status_code == 413
    assert (
        "The file is larger than 20.0\xa0MB, the most a final report may be."
        in response.content.decode()
    )
    assert FinalReport.objects.count() == 0


def test_a_file_just_over_the_limit_is_skipped_on_arrival(client, allocation, pi):
    client.force_login(pi)
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (20 * MB), "application/pdf")

    response = client.post(page_url(allocation), {"file": big})

    assert response.status_code == 200
    assert (
        "The file is larger than 20.0\xa0MB, the most a final report may be."
        in response.content.decode()
    )
    assert FinalReport.objects.count() == 0


def test_the_download_is_the_file_as_an_attachment(client, allocation, pi, coi):
    upload = pdf("Final report.pdf", 2)
    data = upload.read()
    final_report_upload(allocation=allocation, by=pi, upload=upload)
    client.force_login(coi)

    response = client.get(download_url(allocation))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Final report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_report_no_download(client, allocation, pi):
    client.force_login(pi)

    assert client.get(download_url(allocation)).status_code == 404


@pytest.mark.parametrize(
    ("who", "get", "post", "download"),
    [
        ("pi", 200, 302, 200),
        ("coi", 200, 403, 200),
        ("manager", 200, 403, 200),
        ("outsider", 404, 404, 404),
    ],
)
def test_who_may_see_upload_and_download(client, allocation, pi, who, get, post, download, request):
    final_report_upload(allocation=allocation, by=pi, upload=pdf())
    client.force_login(make_manager() if who == "manager" else request.getfixturevalue(who))

    assert client.get(page_url(allocation)).status_code == get
    assert client.post(page_url(allocation), {"file": pdf()}).status_code == post
    assert client.get(download_url(allocation)).status_code == download


def test_members_see_the_state_without_the_form(client, allocation, coi):
    client.force_login(coi)

    page = client.get(page_url(allocation)).content.decode()

    assert "The final report is due by" in page
    assert 'type="file"' not in page


def test_anonymous_is_sent_to_sign_in(client, allocation):
    for response in [
        client.get(page_url(allocation)),
        client.post(page_url(allocation)),
        client.get(download_url(allocation)),
    ]:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_wrong_methods(client, allocation, pi):
    client.force_login(pi)

    assert client.put(page_url(allocation)).status_code == 405
    assert client.post(download_url(allocation)).status_code == 405
