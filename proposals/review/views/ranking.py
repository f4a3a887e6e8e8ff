"""Reading reviews, the committee's ranking of a call and its CSV export (PRODUCT §5.3).

Views fetch-and-check (``get_proposal_for_user``: 404; ``get_call_for_ranking``: 403), call
one selector, and render. What each reader may see is decided in the selectors
(``proposals.review.selectors.ranking``, ``shown_reviews``).
"""

import csv
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.review.forms import ConflictDeclareForm
from proposals.review.ranking import Ranking
from proposals.review.selectors import ranking as selectors
from proposals.review.selectors.reply import reply_window
from proposals.review.selectors.shown_reviews import ReviewsNotShown
from proposals.review.selectors.shown_reviews import proposal_reviews as reviews_for
from proposals.submission.models import Proposal
from proposals.submission.selectors.proposals import get_proposal_for_user
from proposals.submission.views.common import proposal_page_context

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@require_safe
@login_required
def proposal_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviews of a proposal as the reader may see them; 403 with the reason when they
    may see the proposal but not its reviews (yet)."""
    proposal = get_proposal_for_user(user=request.user, pk=pk)
    return render_proposal_reviews(request, proposal)


def render_proposal_reviews(
    request: HttpRequest, proposal: Proposal, *, conflict_form: ConflictDeclareForm | None = None
) -> HttpResponse:
    """The reviews page; a committee member off the team finds there the form to declare a
    conflict of interest (``conflict_form``: as they sent it, with its errors)."""
    context = proposal_page_context(request, proposal, section="reviews")
    committee_declares = (
        not context["is_team_member"]
        and not can_manage_call(request.user, proposal.call)
        and is_committee_member(request.user, proposal.call)
    )
    context.update(
        conflict_form=(conflict_form or ConflictDeclareForm()) if committee_declares else None
    )
    try:
        reviews = reviews_for(proposal=proposal, user=request.user, now=context["now"])
    except ReviewsNotShown as refusal:
        context.update(refusal=str(refusal), reviews=None)
        return render(request, "proposals/reviews/proposal_reviews.html", context, status=403)
    context.update(
        reviews=reviews,
        refusal="",
        reply_state=reply_window(proposal.call, context["now"]),
    )
    status = 400 if conflict_form is not None else 200
    return render(request, "proposals/reviews/proposal_reviews.html", context, status=status)


@require_safe
@login_required
def call_ranking(request: HttpRequest, pk: int) -> HttpResponse:
    """One page of the call's ranking with the budget line, for its committee and managers."""
    call = selectors.get_call_for_ranking(user=request.user, pk=pk)
    ranking = selectors.call_ranking(call=call, user=request.user, page=request.GET.get("page", 1))
    can_manage = can_manage_call(request.user, call)
    now = timezone.now()
    return render(
        request,
        "proposals/ranking.html",
        {
            "call": call,
            "ranking": ranking,
            # rank, proposal, PI, field, reviews, score, normalised, spread, verdict + resources
            "columns": 9 + len(ranking.offers),
            "can_manage": can_manage,
            "reply_state": reply_window(call, now),
            "now": now,
        },
    )


def _text(value: object) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _number(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def ranking_csv_rows(ranking: Ranking) -> list[list[str]]:
    """The ranking as the rows of a CSV file: a header, then one row per proposal."""
    header = [
        _("Rank"),
        _("Reference"),
        _("Acronym"),
        _("Title"),
        _("Principal investigator"),
        _("Field"),
        _("Reviews submitted"),
        _("Reviews assigned"),
        _("Score"),
        _("Normalised score"),
        _("Spread"),
        _("Reviewers disagree"),
        _("Technical verdict"),
    ]
    for offer in ranking.offers:
        values = {"resource": offer.resource.name, "unit": offer.resource.unit}
        header += [
            _("%(resource)s requested (%(unit)s)") % values,
            _("%(resource)s recommended (%(unit)s)") % values,
            _("%(resource)s cumulative requested (%(unit)s)") % values,
            _("%(resource)s within budget") % values,
        ]
    header.append(_("Above the fundable threshold"))
    yes, no = _("yes"), _("no")
    rows = [header]
    for row in ranking.rows:
        line = [
            str(row.rank),
            _text(row.reference),
            _text(row.acronym),
            _text(row.title),
            _text(row.pi_name),
            _text(row.field_code),
            str(row.submitted),
            str(row.assigned),
            _number(row.score),
            _number(row.normalised),
            _number(row.spread),
            yes if row.spread_flagged else no,
            _text(row.verdict_label),
        ]
        for cell in row.cells:
            line += [
                _number(cell.requested),
                _number(cell.recommended),
                _number(cell.cumulative),
                no if cell.over_budget else yes,
            ]
        line.append(yes if row.fundable else no)
        rows.append(line)
    return rows


@require_safe
@login_required
def call_ranking_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every row of the ranking as a UTF-8 CSV download, with the page's filtering."""
    call = selectors.get_call_for_ranking(user=request.user, pk=pk)
    ranking = selectors.call_ranking(call=call, user=request.user, page=None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"ranking-{slugify(call.code) or call.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    # A byte-order mark, so that spreadsheet programs read the file as UTF-8.
    response.write("\ufeff")
    csv.writer(response).writerows(ranking_csv_rows(ranking))
    return response
