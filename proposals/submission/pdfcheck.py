"""Checks an uploaded PDF by its content, not its name (PRODUCT §4.3).

A real parser (pypdf) opens the file: anything it cannot read is refused, as are encrypted
files and files over the call's page or size limit. Each refusal says why, in words a
researcher can act on.
"""

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PdfStreamError

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    size: int


def inspect_pdf(upload: IO[bytes], *, max_pages: int | None, max_bytes: int | None) -> PdfInfo:
    """Return the page count and size of a readable, unencrypted PDF within the limits.

    Raises ValidationError with a message that names the problem.
    """
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if max_bytes is not None and size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; this call accepts at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    # PDF readers accept the header within the first kilobyte.
    if PDF_MAGIC not in upload.read(1024):
        upload.seek(0)
        raise ValidationError(
            _("This file is not a PDF (whatever its name says). Export your document as PDF."),
            code="not_pdf",
        )
    upload.seek(0)
    try:
        reader = PdfReader(upload, strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _(
                    "This PDF is encrypted or password-protected. Save it again without a "
                    "password so that reviewers can open it."
                ),
                code="encrypted",
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, OSError) as exc:
        log.info("unreadable PDF upload", extra={"ctx_error": repr(exc)})
        raise ValidationError(
            _("This PDF is damaged and cannot be read (%(reason)s). Export it again.")
            % {"reason": type(exc).__name__},
            code="malformed",
        ) from exc
    finally:
        upload.seek(0)
    if pages == 0:
        raise ValidationError(_("This PDF has no pages."), code="no_pages")
    if max_pages is not None and pages > max_pages:
        raise ValidationError(
            ngettext(
                "This PDF has %(pages)d page; this call allows at most %(limit)d.",
                "This PDF has %(pages)d pages; this call allows at most %(limit)d.",
                pages,
            )
            % {"pages": pages, "limit": max_pages},
            code="too_many_pages",
        )
    return PdfInfo(pages=pages, size=size)


NAME_LIMIT = 255


def download_name(name: str | None, *, fallback: str = "document.pdf") -> str:
    """The uploader's file name without any folder, printable, ending in .pdf (the content is
    a PDF), at most 255 characters: what a download is offered as."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip() or fallback
    if not name.lower().endswith(".pdf"):
        name = f"{name}.pdf"
    if len(name) > NAME_LIMIT:
        name = name[: NAME_LIMIT - 4] + ".pdf"
    return name


def sha256_of(upload) -> str:
    """The SHA-256 of an uploaded file, read in chunks; the file is rewound afterwards."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
