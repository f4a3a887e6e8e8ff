"""Reviewer assignment pages for call managers (PRODUCT §5.1): the call's assignments, the
optimal suggestion and its preview, applying it, and changes by hand.

The preview carries the suggested pairs in a signed field (``django.core.signing``), so the
manager applies exactly what they saw: a changed or expired field is refused with 400.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import manager_required
from accounts.fields import EMAIL_MAX_LENGTH
from accounts.models import User
from proposals.calls.models import Call
from proposals.calls.selectors import get_call_for_manager
from proposals.review.enums import ReviewKind
from proposals.review.forms import ManualAssignmentForm
from proposals.review.selectors import assignment as selectors
from proposals.review.services import assignment as services
from proposals.review.services import suggestion as suggestion_service
from proposals.submission.models import Proposal

SUGGESTION_SALT = "allot.assignment.suggestion"
# A suggestion older than this is refused: the call has likely moved on since.
SUGGESTION_MAX_AGE = 24 * 3600
# Skipped pairs named one by one in the message after applying; the rest are counted.
SKIPPED_SHOWN = 10


@dataclass(frozen=True)
class RowError:
    """A refused manual assignment, shown at its proposal's row with what was typed."""

    proposal_pk: int
    message: str
    typed: str
    kind: str


def _back_to_page(request: HttpRequest, call_pk: int, anchor: str = "") -> HttpResponse:
    """The assignment page again, on the page and filter the form was posted from."""
    url = reverse("manage_assignment", args=[call_pk])
    query = {}
    page = request.POST.get("page", "")
    if page.isdigit():
        query["page"] = page
    if request.POST.get("show") == "open":
        query["show"] = "open"
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _render_page(
    request: HttpRequest,
    call: Call,
    *,
    page: object = 1,
    open_only: bool = False,
    row_error: RowError | None = None,
    status: int = 200,
) -> HttpResponse:
    overview = selectors.assignment_overview(
        call=call, now=timezone.now(), page=page, open_only=open_only
    )
    if row_error and not any(row.proposal.pk == row_error.proposal_pk for row in overview.rows):
        # The proposal is not on this page (it got its reviewers meanwhile): say it on top.
        messages.error(request, row_error.message)
    return render(
        request,
        "proposals/manage/assignment.html",
        {
            "call": call,
            "overview": overview,
            "kinds": ReviewKind,
            "default_max_load": selectors.DEFAULT_MAX_LOAD,
            "row_error": row_error,
        },
        status=status,
    )


@require_safe
@manager_required
def manage_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_call_for_manager(user=request.user, pk=pk)
    return _render_page(
        request, call, page=request.GET.get("page", 1), open_only=request.GET.get("show") == "open"
    )


# Proposals (and problems) the preview of a suggestion lists; the rest are counted.
PREVIEW_PROPOSALS = 50


@require_POST
@manager_required
def assignment_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_call_for_manager(user=request.user, pk=pk)
    suggestion = suggestion_service.assignment_suggest(call=call, by=request.user)
    signed = signing.dumps(
        {"call": call.pk, "pairs": suggestion.signed_pairs()}, salt=SUGGESTION_SALT, compress=True
    )
    groups = suggestion.by_proposal()
    return render(
        request,
        "proposals/manage/assignment_preview.html",
        {
            "call": call,
            "suggestion": suggestion,
            "signed": signed,
            # A summary, not the whole call: 9,000 pairs would be megabytes of HTML.
            "preview": groups[:PREVIEW_PROPOSALS],
            "preview_more": max(0, len(groups) - PREVIEW_PROPOSALS),
            "problems": suggestion.problems[:PREVIEW_PROPOSALS],
            "problems_more": max(0, len(suggestion.problems) - PREVIEW_PROPOSALS),
            # for "invite instead": the pool, offered as the manager types
            "pool": selectors.reviewer_pool(call=call),
        },
    )


def _steered(
    request: HttpRequest, call, pairs: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[str]]:
    """The suggestion as the manager steered it in the preview: the pairs ticked "leave out"
    dropped, and a pair given another reviewer ("invite instead", a name or email of the
    pool) swapped for that one. A replacement is checked again like every pair; one that
    names nobody or several people leaves its pair out, and says so."""
    dropped = set(request.POST.getlist("drop"))
    steered: list[tuple[int, int]] = []
    unmatched: list[str] = []
    for proposal_id, reviewer_id in pairs:
        key = f"{proposal_id}:{reviewer_id}"
        if key in dropped:
            continue
        form = ManualAssignmentForm({"reviewer": request.POST.get(f"instead-{key}", "")})
        if not form.is_valid():  # left empty: the suggested reviewer stays
            if (form["reviewer"].value() or "").strip():  # typed but refused (a NUL, too long)
                unmatched.append(form.refusal())
            else:
                steered.append((proposal_id, reviewer_id))
            continue
        instead = form.cleaned_data["reviewer"]
        matches = selectors.match_call_reviewers(call=call, value=instead)
        if len(matches) == 1:
            steered.append((proposal_id, matches[0].pk))
        else:
            unmatched.append(_choose_among(instead, matches))
    return steered, unmatched


def _refuse(request: HttpRequest, call, message: str) -> HttpResponse:
    return render(
        request,
        "proposals/manage/assignment_refused.html",
        {"call": call, "message": message},
        status=400,
    )


def _pairs_from(data: object, call_pk: int) -> list[tuple[int, int]] | None:
    """The pairs of a signed suggestion, or None when it is not one for this call."""
    if not isinstance(data, dict) or data.get("call") != call_pk:
        return None
    pairs = data.get("pairs")
    if not isinstance(pairs, list):
        return None
    result = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)):
            return None
        result.append((pair[0], pair[1]))
    return result


@require_POST
@manager_required
def assignment_apply(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_call_for_manager(user=request.user, pk=pk)
    try:
        data = signing.loads(
            request.POST.get("suggestion", ""), salt=SUGGESTION_SALT, max_age=SUGGESTION_MAX_AGE
        )
    except signing.SignatureExpired:
        return _refuse(
            request, call, _("This suggestion is more than a day old. Please ask for a new one.")
        )
    except signing.BadSignature:
        return _refuse(
            request,
            call,
            _(
                "This suggestion was changed after it was made, so it cannot be applied. "
                "Please ask for a new one."
            ),
        )
    pairs = _pairs_from(data, call.pk)
    if pairs is None:
        return _refuse(
            request, call, _("This suggestion belongs to another call. Please ask for a new one.")
        )
    pairs, unmatched = _steered(request, call, pairs)
    try:
        result = services.assignment_apply(call=call, pairs=pairs, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("manage_assignment", pk=call.pk)
    count = len(result.invited)
    messages.success(
        request,
        ngettext("%(count)d reviewer invited.", "%(count)d reviewers invited.", count)
        % {"count": count},
    )
    if result.skipped:
        shown = "; ".join(pair.message for pair in result.skipped[:SKIPPED_SHOWN])
        more = len(result.skipped) - SKIPPED_SHOWN
        if more > 0:
            shown += " " + ngettext("… and %(count)d more.", "… and %(count)d more.", more) % {
                "count": more
            }
        messages.warning(
            request,
            ngettext(
                "%(count)d pair was no longer valid and was skipped: %(pairs)s",
                "%(count)d pairs were no longer valid and were skipped: %(pairs)s",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "pairs": shown},
        )
    for refusal in unmatched:  # "invite instead" named nobody, or several people
        messages.warning(request, refusal)
    return redirect("manage_assignment", pk=call.pk)


def _refuse_at_row(request: HttpRequest, proposal: Proposal, message: str) -> HttpResponse:
    """The assignment page again (same page and filter), the refusal beside the row's form."""
    page = request.POST.get("page", "")
    return _render_page(
        request,
        proposal.call,
        page=page if page.isdigit() else 1,
        open_only=request.POST.get("show") == "open",
        row_error=RowError(
            proposal_pk=proposal.pk,
            message=message,
            typed=request.POST.get("reviewer", "")[:EMAIL_MAX_LENGTH],
            kind=request.POST.get("kind", ""),
        ),
        status=400,
    )


def _choose_among(value: str, matches: list[User]) -> str:
    """Why ``value`` named no one, or several people of the pool."""
    if not matches:
        return _(
            "No reviewer of this call's pool matches “%(value)s”. Type part of a name or "
            "email and choose from the list."
        ) % {"value": value}
    names = [f"{user.display_name} ({user.email})" for user in matches[: selectors.MATCHES_SHOWN]]
    if len(matches) > selectors.MATCHES_SHOWN:
        names.append(_("and more"))
    return _("“%(value)s” matches several reviewers: %(names)s. Choose one.") % {
        "value": value,
        "names": "; ".join(names),
    }


@require_POST
@manager_required
def review_assign_manual(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign a reviewer named by id, email, or part of a name or email matching one person
    of the pool. A refusal shows at the proposal's row (status 400), what was typed kept."""
    proposal = selectors.get_proposal_for_manager(user=request.user, pk=pk)
    anchor = f"proposal-{proposal.pk}"
    form = ManualAssignmentForm(request.POST)
    if not form.is_valid():
        return _refuse_at_row(request, proposal, form.refusal())
    kind = form.cleaned_data["kind"]
    value = form.cleaned_data["reviewer"]
    matches = selectors.match_call_reviewers(call=proposal.call, value=value)
    if len(matches) != 1:
        return _refuse_at_row(request, proposal, _choose_among(value, matches))
    [reviewer] = matches
    try:
        review = services.review_assign(
            proposal=proposal, reviewer=reviewer, kind=kind, by=request.user
        )
    except ValidationError as error:
        return _refuse_at_row(request, proposal, " ".join(error.messages))
    messages.success(
        request,
        _("%(reviewer)s is invited to review %(proposal)s.")
        % {"reviewer": reviewer.display_name, "proposal": review.proposal.reference},
    )
    return _back_to_page(request, proposal.call_id, anchor)


@require_POST
@manager_required
def review_remove(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = selectors.get_review_for_manager(user=request.user, pk=review_pk)
    call_pk = review.proposal.call_id
    anchor = f"proposal-{review.proposal_id}"
    try:
        services.review_remove(review=review, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_page(request, call_pk, anchor)
    messages.success(
        request,
        _("%(reviewer)s is no longer asked to review %(proposal)s.")
        % {"reviewer": review.reviewer.display_name, "proposal": review.proposal.reference},
    )
    return _back_to_page(request, call_pk, anchor)
