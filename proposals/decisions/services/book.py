"""The panel's book (PRODUCT §9): a reader of the ranking asks for their copy; a Celery job
builds it. The book holds what the reader's ranking holds (a committee member's leaves out
the proposals they are in conflict with or on the team of) in the ranking's order: a cover,
an index with scores and the budget line, then each proposal's form and its description PDF.
"""

import io
import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypdf import PdfReader

from accounts.formatting import amount, format_instant
from accounts.models import User
from proposals.calls.models import Call
from proposals.decisions.book import Block, Section, build_book
from proposals.decisions.enums import BOOK_LIFECYCLE, BookState
from proposals.decisions.models import PanelBook
from proposals.review.ranking import Ranking, RankingRow
from proposals.review.selectors.ranking import call_ranking
from proposals.submission.enums import AttachmentKind
from proposals.submission.models import Attachment, Proposal, ResourceRequest

log = logging.getLogger(__name__)
TECHNICAL = [
    ("codes", gettext_lazy("Codes and versions")),
    ("job_size", gettext_lazy("Typical job size")),
    ("wall_time", gettext_lazy("Typical wall time")),
    ("memory", gettext_lazy("Memory per job")),
    ("storage", gettext_lazy("Storage and data management")),
]


def book_request(*, call: Call, reader: User, now: datetime | None = None) -> PanelBook:
    """Queue the reader's book of ``call`` (again): one row per reader, rebuilt on request.

    Side effects: the PanelBook row (state queued); after commit, the ``proposals.build_book``
    task. The view checks that ``reader`` reads the ranking.
    """
    now = now or timezone.now()
    with transaction.atomic():
        book, created = PanelBook.objects.select_for_update().get_or_create(
            call=call,
            reader=reader,
            defaults={"state": BookState.QUEUED, "requested_at": now},
        )
        if not created and book.state != BookState.QUEUED:
            book.requested_at, book.error = now, ""
            BOOK_LIFECYCLE.move(book, BookState.QUEUED, also=("requested_at", "error"))
        elif not created:
            book.requested_at = now
            book.save(update_fields=["requested_at"])
        transaction.on_commit(lambda: _enqueue(book.pk), robust=True)
    return book


def _enqueue(book_id: int) -> None:
    from proposals.tasks import build_book as task

    task.apply_async(kwargs={"book_id": book_id})


def book_build(*, book_id: int, now: datetime | None = None) -> PanelBook | None:
    """Build a queued book; a book that is not queued (built already, or gone) is left as it
    is, so a repeated job does nothing. Side effects: the PDF under MEDIA_ROOT, the row."""
    with transaction.atomic():
        book = (
            PanelBook.objects.select_for_update()
            .select_related("call", "reader")
            .filter(pk=book_id, state=BookState.QUEUED)
            .first()
        )
        if book is None:
            return None
        try:
            data, proposals, pages = _book_pdf(book.call, book.reader, now or timezone.now())
        except Exception as exc:  # a broken book must say so, not stay "being built"
            log.exception("panel book failed", extra={"ctx_book": book.pk})
            book.error = str(exc)[:500]
            BOOK_LIFECYCLE.move(book, BookState.FAILED, also=("error",))
            return book
        old = book.file.name
        book.file.save(f"{book.pk}.pdf", ContentFile(data), save=False)
        book.proposals, book.pages, book.built_at = proposals, pages, now or timezone.now()
        BOOK_LIFECYCLE.move(book, BookState.READY, also=("file", "proposals", "pages", "built_at"))
        if old:
            transaction.on_commit(lambda: book.file.storage.delete(old), robust=True)
    return book


# --- What the book holds -----------------------------------------------------------------------


def _index(call: Call, ranking: Ranking) -> list[Block]:
    blocks = [Block("heading", _("Index"))]
    line_drawn = False
    for row in ranking.rows:
        over = any(cell.over_budget for cell in row.cells)
        if over and not line_drawn:
            blocks.append(Block("small", "— " + _("budget line") + " —", bold=True))
            line_drawn = True
        requested = ", ".join(
            f"{amount(cell.requested)} {offer.resource.unit}"
            for cell, offer in zip(row.cells, ranking.offers, strict=False)
            if cell.requested
        )
        score = amount(row.score) if row.score is not None else "—"
        blocks.append(
            Block(
                "small",
                f"{row.rank}. {row.reference} {row.acronym} — {row.title} · "
                + _("score %(score)s · asks %(requested)s")
                % {"score": score, "requested": requested or "—"},
                space_after=1,
            )
        )
    if ranking.hidden:
        blocks.append(
            Block("small", _("%(n)d proposals are left out of your copy.") % {"n": ranking.hidden})
        )
    return blocks


def _form(proposal: Proposal, row: RankingRow, requests: list[ResourceRequest]) -> list[Block]:
    def fact(label: str, value: object) -> list[Block]:
        text = str(value or "—")
        return [Block("text", label, bold=True, space_after=0), Block("text", text)]

    blocks = [
        Block("heading", f"{row.rank}. {proposal.reference} {proposal.acronym}"),
        Block("text", proposal.title, bold=True),
        *fact(_("Principal investigator"), proposal.pi.display_name),
        *fact(_("Affiliation"), proposal.pi_affiliation),
        *fact(_("Country"), getattr(proposal.pi_country, "name", "")),
        *fact(_("Field of science"), proposal.get_field_display()),
        *fact(_("Keywords"), ", ".join(proposal.keywords or [])),
        *fact(_("Score"), amount(row.score) if row.score is not None else "—"),
        *fact(_("Abstract"), proposal.abstract),
        *fact(_("Previous allocations and results"), proposal.previous_allocations),
    ]
    for request in requests:
        resource = request.call_resource.resource
        blocks += fact(
            _("%(resource)s requested") % {"resource": resource.name},
            f"{amount(request.amount)} {resource.unit}. {request.justification}",
        )
    for name, label in TECHNICAL:
        blocks += fact(str(label), getattr(proposal, name))
    return blocks


def _book_pdf(call: Call, reader: User, now: datetime) -> tuple[bytes, int, int]:
    """The PDF of ``reader``'s book, the number of proposals in it and its pages."""
    ranking = call_ranking(call=call, user=reader, page=None)
    ids = [row.proposal_id for row in ranking.rows]
    proposals = Proposal.objects.select_related("pi").in_bulk(ids)
    requests: dict[int, list[ResourceRequest]] = {pk: [] for pk in ids}
    for request in (
        ResourceRequest.objects.filter(proposal_id__in=ids)
        .select_related("call_resource__resource")
        .order_by("call_resource__resource__name")
    ):
        requests[request.proposal_id].append(request)
    descriptions = {
        attachment.proposal_id: attachment
        for attachment in Attachment.objects.filter(
            proposal_id__in=ids, kind=AttachmentKind.DESCRIPTION, replaced_at__isnull=True
        )
    }
    front = [
        Block("title", call.code),
        Block("heading", call.name),
        Block("text", _("Proposals for the meeting of the allocation committee.")),
        Block(
            "text",
            _("Prepared for %(reader)s on %(when)s. Confidential: do not forward.")
            % {"reader": reader.display_name, "when": format_instant(now, call.tz)},
            space_after=16,
        ),
        *_index(call, ranking),
    ]
    sections = []
    for row in ranking.rows:
        proposal = proposals[row.proposal_id]
        attachment = descriptions.get(proposal.pk)
        appended = []
        if attachment is not None:
            with attachment.file.open("rb") as handle:
                appended.append(handle.read())
        sections.append(
            Section(
                title=f"{row.rank}. {proposal.reference} {proposal.acronym}",
                blocks=_form(proposal, row, requests[proposal.pk]),
                appended=appended,
            )
        )
    footer = _("%(call)s · panel book of %(reader)s · confidential") % {
        "call": call.code,
        "reader": reader.display_name,
    }
    data = build_book(front=front, sections=sections, footer=footer)
    return data, len(sections), len(PdfReader(io.BytesIO(data)).pages)
