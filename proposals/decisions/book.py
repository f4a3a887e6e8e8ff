"""The panel's book as PDF (PRODUCT §9), written with pypdf alone: text pages (a cover, an
index, each proposal's form) in the PDF's standard Helvetica, each followed by the proposal's
description PDF as uploaded. Pure: blocks of text and PDF bytes in, PDF bytes out.

The standard fonts cover Western European text (WinAnsi); a character outside it is printed
as "?" (embedding a font for every script is left for later). Every text page carries the
reader's name in its footer: a copy that leaks says whose it was.
"""

import io
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

A4 = (595, 842)
MARGIN = 50
# Helvetica's mean glyph width is about half its size: wrap at this many characters a line.
WRAP = {"title": 40, "heading": 62, "text": 95, "small": 110}
SIZE = {"title": 22, "heading": 14, "text": 10, "small": 8}
LEADING = {"title": 28, "heading": 20, "text": 13, "small": 11}


@dataclass(frozen=True)
class Block:
    """A paragraph: ``style`` is one of title, heading, text, small; ``bold`` for labels."""

    style: str
    text: str
    bold: bool = False
    space_after: int = 4


@dataclass
class Section:
    """One outline entry of the book: its text blocks, then the PDFs appended after them."""

    title: str
    blocks: list[Block]
    appended: list[bytes] = field(default_factory=list)


def _pdf_text(text: str) -> bytes:
    """``text`` as a PDF string literal's bytes in WinAnsi, unprintable characters dropped."""
    printable = "".join(ch for ch in text if ch >= " ")
    data = printable.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _lines(blocks: Iterable[Block]) -> list[tuple[Block, str | int]]:
    """Each printed line with its block; an int is a space of that many points."""
    lines: list[tuple[Block, str | int]] = []
    for block in blocks:
        for paragraph in block.text.splitlines() or [""]:
            wrapped = textwrap.wrap(paragraph, WRAP[block.style]) or [""]
            lines += [(block, line) for line in wrapped]
        lines.append((block, block.space_after))
    return lines


def _fonts() -> DictionaryObject:
    def font(name: str) -> DictionaryObject:
        return DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(name),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )

    return DictionaryObject(
        {
            NameObject("/Font"): DictionaryObject(
                {NameObject("/F1"): font("/Helvetica"), NameObject("/F2"): font("/Helvetica-Bold")}
            )
        }
    )


def _write_page(writer: PdfWriter, commands: list[bytes], footer: str) -> None:
    page = writer.add_blank_page(*A4)
    page[NameObject("/Resources")] = _fonts()
    commands = [
        *commands,
        b"BT /F1 7 Tf %d %d Td (%s) Tj ET" % (MARGIN, MARGIN - 20, _pdf_text(footer)),
    ]
    stream = DecodedStreamObject()
    stream.set_data(b"\n".join(commands))
    page.replace_contents(stream)  # type: ignore[arg-type]  # pypdf accepts decoded streams


def write_text(writer: PdfWriter, blocks: list[Block], footer: str) -> int:
    """Append ``blocks`` as A4 pages to ``writer``; returns the number of pages written."""
    top, bottom = A4[1] - MARGIN, MARGIN + 10
    y, pages = top, 0
    commands: list[bytes] = []
    for block, line in _lines(blocks):
        if isinstance(line, int):
            y -= line
            continue
        leading = LEADING[block.style]
        if y - leading < bottom:
            _write_page(writer, commands, footer)
            pages += 1
            y, commands = top, []
        y -= leading
        font = b"/F2" if block.bold or block.style in {"title", "heading"} else b"/F1"
        commands.append(
            b"BT %s %d Tf %d %d Td (%s) Tj ET"
            % (font, SIZE[block.style], MARGIN, y, _pdf_text(line))
        )
    if commands or pages == 0:
        _write_page(writer, commands, footer)
        pages += 1
    return pages


def build_book(*, front: list[Block], sections: list[Section], footer: str) -> bytes:
    """The book: ``front`` (cover and index), then each section's text and its PDFs, with an
    outline entry per section. A PDF that cannot be read is replaced by a line saying so."""
    writer = PdfWriter()
    write_text(writer, front, footer)
    for section in sections:
        start = len(writer.pages)
        write_text(writer, section.blocks, footer)
        for data in section.appended:
            try:
                writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
            except (PdfReadError, ValueError, OSError):
                write_text(
                    writer, [Block("text", "(The description PDF could not be read.)")], footer
                )
        writer.add_outline_item(title=section.title, page_number=start)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
