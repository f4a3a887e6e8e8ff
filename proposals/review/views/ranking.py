"""Reading reviews, the committee's ranking of a call and its CSV export (PRODUCT §5.3).

Views fetch-and-check (``get_proposal_for_user``: 404; ``get_call_for_ranking``: 403), call
one selector, and render. What each reader may see is decided in the selectors
(``proposals.review.selectors.ranking``, ``shown_reviews``).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.exports import Table, table_response
from proposals.calls.models import Call
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


def ranking_table(call: Call, ranking: Ranking) -> Table:
    """The ranking as a table to download: one row per proposal, every resource's figures."""
    columns = [
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
        columns += [
            _("%(resource)s requested (%(unit)s)") % values,
            _("%(resource)s recommended (%(unit)s)") % values,
            _("%(resource)s cumulative requested (%(unit)s)") % values,
            _("%(resource)s within budget") % values,
        ]
    columns.append(_("Above the fundable threshold"))
    rows: list[list[object]] = []
    for row in ranking.rows:
        line: list[object] = [
            row.rank,
            row.reference,
            row.acronym,
            row.title,
            row.pi_name,
            row.field_code,
            row.submitted,
            row.assigned,
            row.score,
            row.normalised,
            row.spread,
            row.spread_flagged,
            row.verdict_label,
        ]
        for cell in row.cells:
            line += [cell.requested, cell.recommended, cell.cumulative, not cell.over_budget]
        line.append(row.fundable)
        rows.append(line)
    return Table(name=f"ranking {call.code}", columns=columns, rows=rows)


@require_safe
@login_required
def call_ranking_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Every row of the ranking as CSV or XLSX, as the reader sees it on the page."""
    call = selectors.get_call_for_ranking(user=request.user, pk=pk)
    ranking = selectors.call_ranking(call=call, user=request.user, page=None)
    return table_response(ranking_table(call, ranking), fmt)
