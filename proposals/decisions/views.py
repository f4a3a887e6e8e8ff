"""Decisions (PRODUCT §6): the call managers decide on the ranking within the budget, the
committee reads along, and the applicants see the decision once it is published.

Views fetch-and-check (``get_call_for_decisions``: 404 / 403; ``get_proposal_for_user``: 404),
call one service or selector and render. Publishing, the PI's answer and the waitlist create
allocations, so their views are in ``allocations.views.publishing``.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import get_text_list, slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.bar_chart import Bar, render_bar_chart
from accounts.decorators import manager_required
from accounts.exports import table_response
from accounts.files import private_file_download
from accounts.rules import has_manager_role
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.calls.selectors import get_call_for_manager
from proposals.decisions import exports
from proposals.decisions.enums import BookState
from proposals.decisions.forms import (
    DecisionsForm,
    PromoteForm,
    PublishForm,
    StatisticsFilter,
    shown_from_post,
)
from proposals.decisions.hooks import usage_statistics
from proposals.decisions.models import PanelBook
from proposals.decisions.selectors import applicant, deciding
from proposals.decisions.selectors.dashboard import call_dashboard
from proposals.decisions.selectors.reviews import review_gaps
from proposals.decisions.selectors.statistics import Statistics, call_statistics
from proposals.decisions.services import saving as services
from proposals.decisions.services.book import book_request
from proposals.review.selectors.ranking import get_call_for_ranking
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.views.common import proposal_page_context


def decisions_reader(view: Callable) -> Callable:
    """Signed in; people with the managers' role pass ``manager_required`` (a session with the
    second factor), everyone else goes on to the view, whose fetch-and-check lets the
    committee read."""
    guarded = manager_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if has_manager_role(request.user):
            return guarded(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    return wrapper


def _asked_page(request: HttpRequest) -> str | int:
    """The page asked for (form or query string), as ``Paginator.get_page`` reads it."""
    return request.POST.get("page") or request.GET.get("page") or 1


def decisions_url(call: Call, page: int = 1, anchor: str = "") -> str:
    url = reverse("manage_decisions", args=[call.pk])
    if page > 1:
        url += f"?page={page}"
    return url + (f"#{anchor}" if anchor else "")


def render_decisions(
    request: HttpRequest,
    call: Call,
    *,
    sheet: deciding.DecisionSheet | None = None,
    form: DecisionsForm | None = None,
    errors: list[str] | None = None,
    suggested: bool = False,
    confirm_publish: bool = False,
    publish_form: PublishForm | None = None,
    promote_forms: dict[int, PromoteForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The decisions page of ``call``: editable for its managers until the decisions are
    published, read-only otherwise; after publication, the declined awards and the waitlist.
    Also drawn by ``allocations.views.publishing`` (the confirm step, a refused promotion)."""
    user = request.user
    sheet = sheet or deciding.decision_sheet(call=call, user=user, page=_asked_page(request))
    can_manage = can_manage_call(user, call)
    can_edit = can_manage and not sheet.published
    if can_edit and form is None:
        form = DecisionsForm(rows=sheet.rows, offers=sheet.offers)
    if can_manage and sheet.published:
        promote_forms = promote_forms or {}
        for row in sheet.waitlist:
            promote_forms.setdefault(
                row.proposal_id, PromoteForm(row=row, remaining=sheet.remaining)
            )
    waitlist = [(row, (promote_forms or {}).get(row.proposal_id)) for row in sheet.waitlist]
    return render(
        request,
        "proposals/manage/decisions.html",
        {
            "call": call,
            "sheet": sheet,
            "form": form if can_edit else None,
            "lines": (
                [(fields.row, fields) for fields in form.row_fields()]
                if can_edit
                else [(row, None) for row in sheet.rows]
            ),
            "can_manage": can_manage,
            "can_edit": can_edit,
            "errors": errors or [],
            "suggested": suggested,
            "confirm_publish": confirm_publish and can_manage and not sheet.published,
            "publish_form": publish_form or PublishForm(),
            "waitlist": waitlist,
            # reference, proposal, score, decision, one per resource, message
            "columns": 4 + len(sheet.offers) + 1,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@decisions_reader
def manage_decisions(request: HttpRequest, pk: int) -> HttpResponse:
    """The decisions of a call: managers save one page of rows at a time; the committee
    reads. A refused save comes back with every typed value and the reason at the top."""
    call = deciding.get_call_for_decisions(user=request.user, pk=pk)
    if request.method == "GET":
        return render_decisions(request, call)
    if not can_manage_call(request.user, call):
        raise PermissionDenied(_("Only call managers change decisions; the committee reads them."))
    sheet = deciding.decision_sheet(
        call=call, user=request.user, page=_asked_page(request), shown=shown_from_post(request.POST)
    )
    if call.decisions_published_at is not None:
        messages.error(request, _("The decisions are published; they can no longer be changed."))
        return redirect(decisions_url(call, sheet.page))
    form = DecisionsForm(request.POST, rows=sheet.rows, offers=sheet.offers)
    errors: list[str] = []
    if form.is_valid():
        rows = form.decisions(
            proposals=deciding.proposals_by_id(call=call, ids=[r.proposal_id for r in sheet.rows])
        )
        try:
            written = services.decisions_save(call=call, by=request.user, rows=rows)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(
                request,
                ngettext("%(count)d decision saved.", "%(count)d decisions saved.", len(written))
                % {"count": len(written)},
            )
            return redirect(decisions_url(call, sheet.page))
    return render_decisions(request, call, sheet=sheet, form=form, errors=errors)


@require_POST
@manager_required
def decisions_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    """The decisions form filled with the suggested awards (``decisions_suggest``); nothing
    is saved until the manager presses Save."""
    call = deciding.get_call_for_decisions(user=request.user, pk=pk)
    if call.decisions_published_at is not None:
        messages.error(request, _("The decisions are published; they can no longer change."))
        return redirect(decisions_url(call))
    suggestion = services.decisions_suggest(call=call, by=request.user)
    gaps = review_gaps(call=call, proposals=[data.proposal for data in suggestion])
    if gaps:
        messages.warning(
            request,
            _(
                "Reviews are missing, so the suggestion funds none of these and waitlists those "
                "above the threshold: %(list)s."
            )
            % {"list": get_text_list([gap.label for gap in gaps], _("and"))},
        )
    shown = {
        data.proposal.pk: deciding.ShownDecision(outcome=data.outcome, amounts=data.amounts)
        for data in suggestion
    }
    sheet = deciding.decision_sheet(
        call=call, user=request.user, page=_asked_page(request), shown=shown
    )
    form = DecisionsForm(rows=sheet.rows, offers=sheet.offers)
    return render_decisions(request, call, sheet=sheet, form=form, suggested=True)


@require_safe
@login_required
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision on a proposal: its team sees it once published (and is told it is not
    yet before); managers and the committee see it as saved. The PI answers an award here."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    if not applicant.can_read_decision(request.user, proposal):
        raise PermissionDenied(_("Only the proposal's team and the committee see its decision."))
    context = proposal_page_context(request, proposal, section="decision")
    shown = applicant.proposal_decision(proposal=proposal, user=request.user)
    decision = shown.decision
    context.update(
        shown=shown,
        decision=decision,
        can_respond=(
            shown.is_award
            and shown.published
            and context["is_pi"]
            and decision.response == "pending"
        ),
    )
    return render(request, "proposals/decision.html", context)


# --- Exports (PRODUCT §9): one table each, written by ``accounts.exports`` ------------------


@require_safe
@manager_required
def manage_call_export(request: HttpRequest, pk: int, what: str, fmt: str) -> HttpResponse:
    """The call's proposals or decisions as CSV or XLSX, for call managers."""
    call = get_call_for_manager(user=request.user, pk=pk)
    if what == "decisions":
        return table_response(exports.decisions_table(call=call), fmt)
    return table_response(exports.proposals_table(call=call), fmt)


@require_safe
@decisions_reader
def call_reviews_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The call's submitted reviews with their reviewers, for its committee and managers;
    a committee member's file leaves out what they are in conflict with."""
    call = get_call_for_ranking(user=request.user, pk=pk)
    return table_response(exports.reviews_table(call=call, user=request.user), fmt)


# --- The call's dashboard (PRODUCT §9) -------------------------------------------------------


@require_safe
@manager_required
def manage_call_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """A call at a glance, with a link to every manager action on it."""
    call = get_call_for_manager(user=request.user, pk=pk)
    dashboard = call_dashboard(call=call, now=timezone.now())
    return render(
        request, "proposals/manage/dashboard.html", {"call": call, "dashboard": dashboard}
    )


# --- Statistics (PRODUCT §9) ----------------------------------------------------------------


def _charts(stats: Statistics) -> dict[str, SafeString]:
    """The statistics' charts as SVG (``accounts.bar_chart``: escaped, no script)."""
    fields = stats.by_field[:12]
    rated = [row for row in fields if row.success_rate is not None]
    charts = {
        "fields": render_bar_chart(
            [Bar(row.label, row.proposals) for row in fields],
            title=_("Proposals by field of science"),
            description=", ".join(f"{row.label}: {row.proposals}" for row in fields),
            id_prefix="chart-fields",
        ),
        "success": ""
        if not rated
        else render_bar_chart(
            [Bar(row.label, row.success_rate or 0) for row in rated],
            title=_("Success rate by field of science"),
            description=", ".join(f"{row.label}: {row.success_rate} %" for row in rated),
            id_prefix="chart-success",
            suffix=" %",
        ),
        "cycles": render_bar_chart(
            [Bar(f"{c.call_code} · {c.resource}", c.ratio or 0) for c in stats.cycles],
            title=_("Oversubscription per resource and call"),
            description=", ".join(f"{c.call_code} {c.resource}: {c.ratio}×" for c in stats.cycles),
            id_prefix="chart-cycles",
            suffix="×",
            mark=Decimal(1),
        ),
    }
    return {name: mark_safe(svg) for name, svg in charts.items()}  # noqa: S308


@require_safe
@manager_required
def manage_statistics(request: HttpRequest) -> HttpResponse:
    """Statistics of one call or of every call, with charts and the numbers as tables."""
    form = StatisticsFilter(request.GET or None)
    call = form.cleaned_data["call"] if form.is_valid() else None
    stats = call_statistics(call=call)
    context = {
        "form": form,
        "stats": stats,
        "charts": _charts(stats) if stats.total.proposals else {},
        "usage": usage_statistics(call),
    }
    return render(request, "proposals/manage/statistics.html", context)


# --- The panel's book (PRODUCT §9) ------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@decisions_reader
def call_book(request: HttpRequest, pk: int) -> HttpResponse:
    """The reader's copy of the call's book: its state, a button to build it (again)."""
    call = get_call_for_ranking(user=request.user, pk=pk)
    if request.method == "POST":
        book_request(call=call, reader=request.user)
        messages.success(
            request, _("Your book is being built. This page shows it when it is ready.")
        )
        return redirect("call_book", pk=call.pk)
    book = PanelBook.objects.filter(call=call, reader=request.user).first()
    return render(request, "proposals/book.html", {"call": call, "book": book})


@require_safe
@decisions_reader
def call_book_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The reader's own book, once built; nobody reads another person's copy."""
    call = get_call_for_ranking(user=request.user, pk=pk)
    book = get_object_or_404(PanelBook, call=call, reader=request.user, state=BookState.READY)
    return private_file_download(
        book.file,
        filename=f"book-{slugify(call.code) or call.pk}.pdf",
        what="panel book",
        log_extra={"ctx_book": book.pk},
    )
