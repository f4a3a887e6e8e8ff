"""The demo proposals of ``manage.py seed_demo``: one in every state, and their PDFs."""

import io
from dataclasses import dataclass

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from proposals.enums import ProposalStatus

PI_EMAIL = "pi@demo.allot.example"
COI_EMAIL = "coi@demo.allot.example"


@dataclass(frozen=True)
class DemoProposal:
    """One demo proposal. ``call`` is "open", "decided" or "closed"; ``requests`` maps a
    resource code to an amount (resources the call does not offer are left out)."""

    call: str
    acronym: str
    title: str
    status: ProposalStatus
    pi: str
    field: str
    keywords: tuple[str, ...]
    requests: dict[str, int]
    with_coi: bool = False
    # A draft is half written: the general section and the requests, nothing technical yet.
    complete: bool = True


PROPOSALS = [
    DemoProposal(
        "open",
        "EURO-LLM",
        "Scaling laws for open European language models",
        ProposalStatus.DRAFT,
        PI_EMAIL,
        "PE6",
        ("large language models", "scaling laws", "multilingual"),
        {"jupiter-booster": 250_000, "project-storage": 40},
        with_coi=True,
        complete=False,
    ),
    DemoProposal(
        "open",
        "CLIMA-EMU",
        "Machine-learned emulators of kilometre-scale climate simulations",
        ProposalStatus.SUBMITTED,
        PI_EMAIL,
        "PE10",
        ("climate", "emulators", "diffusion models"),
        {"jupiter-booster": 180_000, "juwels-cluster": 1_500_000, "project-storage": 60},
    ),
    DemoProposal(
        "open",
        "PROT-DESIGN",
        "Foundation models for protein design",
        ProposalStatus.WITHDRAWN,
        PI_EMAIL,
        "LS1",
        ("proteins", "generative models"),
        {"jupiter-booster": 120_000},
    ),
    DemoProposal(
        "decided",
        "MOE-SCALE",
        "Sparse mixture-of-experts models at scale",
        ProposalStatus.AWARDED,
        PI_EMAIL,
        "PE6",
        ("mixture of experts", "language models"),
        {"jupiter-booster": 400_000, "project-storage": 80},
        with_coi=True,
    ),
    DemoProposal(
        "decided",
        "SEISMO-NO",
        "Neural operators for seismic wave propagation",
        ProposalStatus.PARTIALLY_AWARDED,
        COI_EMAIL,
        "PE10",
        ("neural operators", "seismology"),
        {"jupiter-booster": 300_000, "juwels-cluster": 2_000_000},
    ),
    DemoProposal(
        "decided",
        "GENOME-LM",
        "Language models of the human genome",
        ProposalStatus.WAITLISTED,
        PI_EMAIL,
        "LS2",
        ("genomics", "language models"),
        {"jupiter-booster": 200_000, "project-storage": 50},
    ),
    DemoProposal(
        "decided",
        "FLUID-GNN",
        "Graph networks for turbulent flows",
        ProposalStatus.REJECTED,
        COI_EMAIL,
        "PE8",
        ("turbulence", "graph neural networks"),
        {"jupiter-booster": 90_000},
    ),
    DemoProposal(
        "closed",
        "EO-VISION",
        "Vision-language models for Earth observation",
        ProposalStatus.UNDER_REVIEW,
        PI_EMAIL,
        "PE10",
        ("remote sensing", "vision-language models"),
        {"juwels-booster": 150_000, "project-storage": 30},
        with_coi=True,
    ),
]
# Each submitted proposal's description has this many pages (within every demo call's limit).
DESCRIPTION_PAGES = 4


def _pdf_text(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("latin-1", "replace")


def description_pdf(title: str, pages: int = DESCRIPTION_PAGES) -> bytes:
    """A real PDF of ``pages`` A4 pages, each headed with the title, written by pypdf."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        lines = [
            (18, title),
            (12, f"Project description, page {number} of {pages}"),
            (10, "Demo data written by manage.py seed_demo."),
        ]
        content = b"BT 72 770 Td "
        for size, line in lines:
            content += b"/F1 %d Tf (%s) Tj 0 -%d Td " % (size, _pdf_text(line), size + 10)
        stream = DecodedStreamObject()
        stream.set_data(content + b"ET")
        page.replace_contents(stream)
    writer.add_metadata({"/Title": title, "/Producer": "Allot seed_demo"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
