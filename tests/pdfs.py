"""Real PDF files made on the fly for upload tests (pypdf writes them)."""

import io

from pypdf import PdfWriter


def pdf_bytes(pages: int = 1, *, password: str | None = None, padding: int = 0) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_metadata({"/Padding": "x" * padding})
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
