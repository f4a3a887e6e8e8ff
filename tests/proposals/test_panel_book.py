"""The panel's book (PRODUCT §9): a PDF per reader of the ranking, built by a Celery job, with
a cover, an index in the ranking's order, each proposal's form and its description PDF;
a committee member's copy leaves out what they are in conflict with; each copy is its
reader's alone."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from proposals.decisions.enums import BookState
from proposals.decisions.models import PanelBook
from proposals.decisions.services.book import book_build, book_request
from proposals.review.enums import ConflictStatus
from tests.proposals.decisions_factories import on_committee, worked_example
from tests.proposals.test_ranking import conflict

pytestmark = pytest.mark.django_db

ORDER = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"]


@pytest.fixture
def example(pi, coi, committee):
    example = worked_example(pi=pi, coi=coi)
    on_committee(example.call, committee)
    return example


def build(client, example, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("call_book", args=[example.call.pk]))
    assert response.status_code == 302
    return PanelBook.objects.get()


def pdf_of(response) -> PdfReader:
    return PdfReader(io.BytesIO(b"".join(response.streaming_content)))


def test_a_committee_member_builds_and_downloads_their_copy(
    client, example, committee, django_capture_on_commit_callbacks
):
    client.force_login(committee)
    book = build(client, example, django_capture_on_commit_callbacks)

    assert book.state == BookState.READY
    assert book.proposals == 6
    page = client.get(reverse("call_book", args=[example.call.pk])).content.decode()
    assert "6 proposals, " in page
    response = client.get(reverse("call_book_download", args=[example.call.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="book-jupiter-2027-1.pdf"'
    pdf = pdf_of(response)
    # The cover and index, then per proposal its form (one page) and its 3-page description.
    assert len(pdf.pages) == book.pages == 1 + 6 * (1 + 3)
    cover = pdf.pages[0].extract_text()
    assert "Prepared for Conrad Committee" in cover
    positions = [cover.index(f"JUP27-1-000{n} {acronym}") for n, acronym in enumerate(ORDER, 1)]
    assert positions == sorted(positions)
    assert "score 5" in cover
    alpha = pdf.pages[1].extract_text()
    assert "1. JUP27-1-0001 ALPHA" in alpha
    assert "The ALPHA project" in alpha
    assert "panel book of Conrad Committee" in alpha
    assert [item.title for item in pdf.outline][:2] == [
        "1. JUP27-1-0001 ALPHA",
        "2. JUP27-1-0002 BRAVO",
    ]


def test_a_conflicted_member_s_copy_leaves_the_proposal_out(
    client, example, committee, django_capture_on_commit_callbacks
):
    conflict(example["BRAVO"], committee, ConflictStatus.DECLARED)
    client.force_login(committee)
    build(client, example, django_capture_on_commit_callbacks)

    pdf = pdf_of(client.get(reverse("call_book_download", args=[example.call.pk])))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "BRAVO" not in text
    assert "ALPHA" in text and "FOXTROT" in text
    assert "1 proposals are left out of your copy." in text
    assert len(pdf.outline) == 5


def test_nobody_downloads_another_reader_s_copy(
    client, example, committee, manager, django_capture_on_commit_callbacks
):
    client.force_login(committee)
    build(client, example, django_capture_on_commit_callbacks)

    client.force_login(manager)
    assert client.get(reverse("call_book_download", args=[example.call.pk])).status_code == 404


def test_applicants_and_reviewers_get_403(client, example, pi):
    for person in (pi, example.reviewer):
        client.force_login(person)
        assert client.get(reverse("call_book", args=[example.call.pk])).status_code == 403
        assert client.post(reverse("call_book", args=[example.call.pk])).status_code == 403
        assert client.get(reverse("call_book_download", args=[example.call.pk])).status_code == 403
    assert not PanelBook.objects.exists()


def test_no_such_call_is_404_and_a_put_is_405(client, example, committee):
    client.force_login(committee)
    assert client.get(reverse("call_book", args=[example.call.pk + 99])).status_code == 404
    assert client.put(reverse("call_book", args=[example.call.pk])).status_code == 405
    assert client.post(reverse("call_book_download", args=[example.call.pk])).status_code == 405


def test_the_job_twice_builds_once_and_asking_again_rebuilds(example, committee):
    book = book_request(call=example.call, reader=committee)
    first = book_build(book_id=book.pk)
    assert first is not None and first.state == BookState.READY
    name = first.file.name

    assert book_build(book_id=book.pk) is None  # a repeated job changes nothing
    book.refresh_from_db()
    assert book.file.name == name

    book_request(call=example.call, reader=committee)
    again = book_build(book_id=book.pk)
    assert again is not None and again.file.name != name
    assert PanelBook.objects.count() == 1
