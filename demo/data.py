"""The demo proposals of ``manage.py seed_demo``: one in every state, their PDFs, and the peer
review of the closed call (reviews in every state, a technical review)."""

import io
from dataclasses import dataclass, field

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from proposals.calls.models import CallCriterion
from proposals.review.enums import Recommendation, ReviewKind, ReviewState, TechnicalVerdict
from proposals.submission.enums import ProposalStatus

PI_EMAIL = "pi@demo.allot.example"
COI_EMAIL = "coi@demo.allot.example"
REVIEWER_EMAIL = "reviewer@demo.allot.example"
REVIEWER2_EMAIL = "reviewer2@demo.allot.example"
REVIEWER3_EMAIL = "reviewer3@demo.allot.example"
REVIEWER4_EMAIL = "reviewer4@demo.allot.example"


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
    # The proposal's "reviewers to exclude" (conflict detection reads it).
    excluded_reviewers: str = ""


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
    # The rest of the closed call: together they ask for more GPU-hours and storage than its
    # budget, so the ranking's budget line falls among the proposals.
    DemoProposal(
        "closed",
        "PLASMA-RL",
        "Reinforcement learning for real-time plasma control in tokamaks",
        ProposalStatus.UNDER_REVIEW,
        COI_EMAIL,
        "PE2",
        ("fusion", "plasma control", "reinforcement learning"),
        {"juwels-booster": 250_000, "project-storage": 20},
    ),
    DemoProposal(
        "closed",
        "CRYSTAL-GEN",
        "Diffusion models for crystal structure prediction",
        ProposalStatus.UNDER_REVIEW,
        PI_EMAIL,
        "PE5",
        ("materials discovery", "crystal structures", "diffusion models"),
        {"juwels-booster": 240_000, "project-storage": 40},
    ),
    DemoProposal(
        "closed",
        "CONNECTOME",
        "Self-supervised segmentation of electron-microscopy brain volumes",
        ProposalStatus.UNDER_REVIEW,
        COI_EMAIL,
        "LS5",
        ("connectomics", "electron microscopy", "self-supervised learning"),
        {"juwels-booster": 250_000, "project-storage": 50},
    ),
    DemoProposal(
        "closed",
        "COSMO-EMU",
        "Neural emulators of cosmological N-body simulations",
        ProposalStatus.UNDER_REVIEW,
        PI_EMAIL,
        "PE9",
        ("cosmology", "emulators", "N-body simulations"),
        {"juwels-booster": 220_000, "project-storage": 45},
        # Names a reviewer of the pool: detection finds one conflict for a manager to decide.
        excluded_reviewers=(
            "Renate Gutachter: she leads a competing project on cosmological emulators."
        ),
    ),
    DemoProposal(
        "closed",
        "PRESS-OCR",
        "Language models for reading historical newspapers",
        ProposalStatus.UNDER_REVIEW,
        COI_EMAIL,
        "SH6",
        ("digital humanities", "OCR", "historical newspapers"),
        {"juwels-booster": 180_000, "project-storage": 25},
    ),
]


@dataclass(frozen=True)
class DemoReview:
    """One review of a proposal of the closed call, by acronym and reviewer's email.

    ``scores`` follow the call's criteria in order (a draft may have fewer); ``day`` is when
    the reviewer last acted (declined, saved, submitted), in days after the reviews were
    assigned, and ``assigned_day`` when this one was assigned. A technical review keeps its
    comments in ``confidential`` and recommends amounts per resource code.
    """

    acronym: str
    reviewer: str
    state: ReviewState
    kind: ReviewKind = ReviewKind.SCIENTIFIC
    scores: tuple[int, ...] = ()
    to_applicant: str = ""
    confidential: str = ""
    recommendation: str = ""
    verdict: str = ""
    recommended: dict[str, int] = field(default_factory=dict)
    decline_reason: str = ""
    day: int = 0
    assigned_day: int = 0


SUBMITTED = ReviewState.SUBMITTED
# Scores on the JUWELS AI call's criteria: scientific excellence (weight 2), technical
# feasibility, impact; 0-5. Proposal scores: CONNECTOME 4.75 (one review in, one invited),
# PLASMA-RL 4.13, EO-VISION 4.00, COSMO-EMU 3.25 (one in, the demo reviewer's draft),
# CRYSTAL-GEN 3.13 (reviewers 2 points apart: flagged), PRESS-OCR 2.00 (below the threshold,
# a declined invitation to replace). The GPU budget runs out at CRYSTAL-GEN.
REVIEWS = [
    DemoReview(
        "EO-VISION",
        REVIEWER_EMAIL,
        SUBMITTED,
        scores=(4, 4, 5),
        to_applicant=(
            "A clear plan to adapt open vision-language models to multispectral imagery, with "
            "a benchmark the community needs. The evaluation on cloud-covered scenes should be "
            "described in more detail."
        ),
        confidential="A strong group; the open benchmark alone justifies the allocation.",
        recommendation=Recommendation.FUND,
        day=6,
    ),
    DemoReview(
        "EO-VISION",
        REVIEWER4_EMAIL,
        SUBMITTED,
        scores=(4, 3, 4),
        to_applicant=(
            "Well motivated and realistic. The data loading from the project file system will "
            "limit the 256-GPU runs; plan for staging the tiles to node-local storage."
        ),
        confidential="Fund; the I/O plan is the weak point, not the science.",
        recommendation=Recommendation.FUND,
        day=9,
    ),
    DemoReview(
        "PLASMA-RL",
        REVIEWER2_EMAIL,
        SUBMITTED,
        scores=(5, 4, 4),
        to_applicant=(
            "Excellent and timely: controllers trained in simulation and tested on a real "
            "tokamak. The sim-to-real transfer study is convincing."
        ),
        confidential="One of the best proposals I have read this year.",
        recommendation=Recommendation.FUND,
        day=5,
    ),
    DemoReview(
        "PLASMA-RL",
        REVIEWER_EMAIL,
        SUBMITTED,
        scores=(4, 3, 4),
        to_applicant=(
            "A strong proposal. The hyper-parameter sweep in work package 2 looks larger than "
            "needed; a smaller sweep with early stopping would do."
        ),
        confidential="Fund, but about a fifth less GPU time would be enough.",
        recommendation=Recommendation.FUND_REDUCED,
        day=8,
    ),
    DemoReview(
        "PLASMA-RL",
        REVIEWER4_EMAIL,
        SUBMITTED,
        kind=ReviewKind.TECHNICAL,
        confidential=(
            "The training loop scales well to 64 GPUs, but at 256 GPUs the plasma simulator "
            "runs on the host CPUs and the GPUs wait 40 % of the time. 200,000 GPU-hours cover "
            "the 64-GPU campaign; the storage request is fine."
        ),
        verdict=TechnicalVerdict.FEASIBLE_WITH_CHANGES,
        recommended={"juwels-booster": 200_000, "project-storage": 20},
        day=4,
    ),
    DemoReview(
        "CRYSTAL-GEN",
        REVIEWER3_EMAIL,
        SUBMITTED,
        scores=(2, 3, 2),
        to_applicant=(
            "The method repeats published work on diffusion models for crystals; the proposal "
            "does not say what is new, nor how the predicted structures will be validated."
        ),
        confidential="Competent but incremental.",
        recommendation=Recommendation.DO_NOT_FUND,
        day=10,
    ),
    DemoReview(
        "CRYSTAL-GEN",
        REVIEWER2_EMAIL,
        SUBMITTED,
        scores=(4, 4, 4),
        to_applicant=(
            "Generating stable structures with symmetry built in is a real advance, and the "
            "validation with DFT calculations is well planned."
        ),
        confidential="I disagree with the view that this is incremental: the symmetry work is new.",
        recommendation=Recommendation.FUND,
        day=11,
    ),
    DemoReview(
        "CONNECTOME",
        REVIEWER3_EMAIL,
        SUBMITTED,
        scores=(5, 5, 4),
        to_applicant=(
            "Outstanding: petabyte-scale volumes, a tested pipeline and a plan to release the "
            "segmentations openly. The proofreading effort should be budgeted explicitly."
        ),
        confidential="Top of my list.",
        recommendation=Recommendation.FUND,
        day=7,
    ),
    DemoReview("CONNECTOME", REVIEWER_EMAIL, ReviewState.INVITED, assigned_day=17),
    DemoReview(
        "COSMO-EMU",
        REVIEWER4_EMAIL,
        SUBMITTED,
        scores=(3, 4, 3),
        to_applicant=(
            "A sound plan and codes that are ready. The emulators should be compared with the "
            "existing ones on the same test suite."
        ),
        confidential="Fundable; the request could be reduced by a quarter.",
        recommendation=Recommendation.FUND_REDUCED,
        day=12,
    ),
    DemoReview(
        "COSMO-EMU",
        REVIEWER_EMAIL,
        ReviewState.ACCEPTED,
        scores=(3, 4),
        to_applicant="The emulator design is convincing, but",
        day=14,
    ),
    DemoReview(
        "PRESS-OCR",
        REVIEWER4_EMAIL,
        SUBMITTED,
        scores=(2, 3, 1),
        to_applicant=(
            "An interesting corpus, but the proposal does not show why fine-tuning needs "
            "180,000 GPU-hours; the experiments could run on a much smaller model first."
        ),
        confidential="Not ready; encourage a smaller request next call.",
        recommendation=Recommendation.DO_NOT_FUND,
        day=13,
    ),
    DemoReview(
        "PRESS-OCR",
        REVIEWER3_EMAIL,
        ReviewState.DECLINED,
        decline_reason=(
            "Historical newspapers are outside my field (neuroscience and materials); a "
            "reviewer from the digital humanities would judge the corpus work better."
        ),
        day=2,
    ),
]


def demo_score(
    scores: tuple[int, ...], position: int, criterion: CallCriterion, *, complete: bool
) -> int | None:
    """The demo score of the criterion at ``position``, on its scale. A submitted review
    scores every criterion: a call with more criteria than the demo (an existing closed
    call) gets the mean of the demo scores for the others."""
    if position < len(scores):
        value = scores[position]
    elif complete and scores:
        value = round(sum(scores) / len(scores))
    else:
        return None
    return min(max(value, criterion.scale_min), criterion.scale_max)


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
