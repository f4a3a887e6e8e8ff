"""Uploaded PDFs are checked by content with a real parser (PRODUCT §4.3)."""

import io

import pytest
from django.core.exceptions import ValidationError

from proposals.submission.pdfcheck import inspect_pdf
from tests.pdfs import pdf_bytes


def check(data: bytes, *, max_pages: int = 10, max_bytes: int = 1_000_000):
    return inspect_pdf(io.BytesIO(data), max_pages=max_pages, max_bytes=max_bytes)


def test_a_valid_pdf_reports_pages_and_size():
    data = pdf_bytes(3)
    info = check(data)
    assert (info.pages, info.size) == (3, len(data))


def test_a_text_file_named_pdf_is_refused():
    with pytest.raises(ValidationError) as error:
        check(b"Project description\nWe will train a model.\n" * 20)
    assert error.value.code == "not_pdf"
    assert "not a PDF" in error.value.messages[0]


def test_an_encrypted_pdf_is_refused():
    with pytest.raises(ValidationError) as error:
        check(pdf_bytes(2, password="secret"))
    assert error.value.code == "encrypted"


def test_a_pdf_over_the_page_limit_is_refused_with_both_numbers():
    with pytest.raises(ValidationError) as error:
        check(pdf_bytes(11), max_pages=10)
    assert error.value.messages == ["This PDF has 11 pages; this call allows at most 10."]


def test_a_pdf_over_the_size_limit_is_refused():
    data = pdf_bytes(1, padding=20_000)
    with pytest.raises(ValidationError) as error:
        check(data, max_bytes=10_000)
    assert error.value.code == "too_large"
    assert "at most 9.8\xa0KB" in error.value.messages[0]


def test_a_truncated_pdf_is_refused_as_damaged():
    data = pdf_bytes(2)
    with pytest.raises(ValidationError) as error:
        check(data[: len(data) // 3])
    assert error.value.code in {"malformed", "no_pages"}


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as error:
        check(b"")
    assert error.value.code == "empty"
