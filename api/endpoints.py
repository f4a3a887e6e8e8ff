"""The JSON API under ``/api/v1/`` (PRODUCT §9), with its OpenAPI schema
(``/api/v1/openapi.json``) and documentation page (``/api/v1/docs``).

Thin like every view: authenticate (``api.auth``), fetch-and-check through the same selectors
and rules as the pages (so §1.1 holds exactly as it does there: 404 for who may not know an
object, 403 for who may know it but not read this), shape the rows (``api.schemas``).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Path, Swagger
from ninja.errors import AuthenticationError

from api import auth, schemas
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.calls.selectors import get_public_call, public_calls
from proposals.decisions.selectors.deciding import decision_sheet, get_call_for_decisions
from proposals.review.selectors.ranking import call_ranking, get_call_for_ranking
from proposals.review.selectors.reviewing import ReviewRow, my_reviews
from proposals.submission.enums import TeamStatus
from proposals.submission.models import ProposalVersion
from proposals.submission.rules import is_team_member
from proposals.submission.selectors.lists import my_proposals, proposal_overview
from proposals.submission.selectors.proposals import get_proposal_for_user

api = NinjaAPI(
    title="Allot API",
    version="1",
    description=(
        "Calls, your proposals, reviews, rankings, decisions, allocations and usage. "
        "Send a personal token from your profile as `Authorization: Bearer allot_…`."
    ),
    docs=Swagger(settings={"validatorUrl": None, "tryItOutEnabled": False}),
    docs_url="/docs",
    urls_namespace="api",
)

# Every operation may answer 400 (an address with a control character) and 422 (a parameter
# that is not what the schema says).
BAD_INPUT = {400: schemas.Error, 422: schemas.ValidationProblem}
ERRORS = {
    **BAD_INPUT,
    401: schemas.Error,
    403: schemas.Error,
    404: schemas.Error,
    422: schemas.ValidationProblem,
    429: schemas.Error,
}
# Ids are database keys (bigint): anything else is refused with 422 before a query.
MAX_ID = 2**63 - 1
# A Slurm cluster's name as sacct and sacctmgr print it.
CLUSTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "A valid token is needed: unknown, expired or revoked."}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="allot"'
    return response


@api.exception_handler(auth.RateLimited)
def _rate_limited(request: HttpRequest, exc: auth.RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.wait)
    return response


def _user(request: HttpRequest):
    return request.user


# --- Calls (public) ----------------------------------------------------------------------------


def _call(call: Call, now) -> dict:
    return {
        "id": call.pk,
        "code": call.code,
        "name": call.name,
        "status": call.status_at(now),
        "time_zone": call.time_zone,
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "review_due_at": call.review_due_at,
        "decisions_due_at": call.decisions_due_at,
        "period_start": call.period_start,
        "period_end": call.period_end,
        "resources": [
            {
                "resource": offer.resource.name,
                "code": offer.resource.code,
                "unit": offer.resource.unit,
                "budget": offer.budget,
                "min_request": offer.min_request,
                "max_request": offer.max_request,
            }
            for offer in call.call_resources.all()
        ],
    }


@api.get("/calls", response={200: schemas.CallList, **BAD_INPUT}, tags=["calls"], auth=None)
def calls(request: HttpRequest):
    """Open and upcoming calls (soonest deadline first) and past ones; no token needed."""
    now = timezone.now()
    found = public_calls(now=now)
    past = Call.objects.filter(pk__in=[c.pk for c in found.past]).prefetch_related(
        "call_resources__resource"
    )
    by_id = {c.pk: c for c in past}
    return {
        "current": [_call(c, now) for c in found.current],
        "past": [_call(by_id[c.pk], now) for c in found.past],
    }


@api.get(
    "/calls/{call_id}",
    response={200: schemas.CallOut, 404: schemas.Error, **BAD_INPUT},
    tags=["calls"],
    auth=None,
)
def call(request: HttpRequest, call_id: int = Path(..., ge=1, le=MAX_ID)):
    """One call with its resources and budgets; no token needed."""
    return _call(get_public_call(pk=call_id), timezone.now())


# --- Proposals -----------------------------------------------------------------------------


@api.get(
    "/proposals",
    response={200: list[schemas.ProposalRowOut], **ERRORS},
    tags=["proposals"],
    auth=auth.read,
)
def proposals(request: HttpRequest):
    """Every proposal you lead or joined, newest change first, with its status, what a draft
    still lacks, and its submitted versions."""
    user = _user(request)
    rows = my_proposals(user=user).rows
    versions: dict[int, list[dict]] = {}
    for version in ProposalVersion.objects.filter(
        proposal_id__in=[row.proposal.pk for row in rows]
    ).order_by("number"):
        versions.setdefault(version.proposal_id, []).append(
            {"number": version.number, "submitted_at": version.submitted_at}
        )
    return [
        {
            "id": row.proposal.pk,
            "call_id": row.proposal.call_id,
            "call_code": row.proposal.call.code,
            "reference": row.proposal.reference,
            "acronym": row.proposal.acronym,
            "title": row.proposal.title,
            "status": row.proposal.status,
            "is_pi": row.proposal.pi_id == user.pk,
            "missing": [str(label) for label in row.missing],
            "versions": versions.get(row.proposal.pk, []),
        }
        for row in rows
    ]


@api.get(
    "/proposals/{proposal_id}",
    response={200: schemas.ProposalOut, **ERRORS},
    tags=["proposals"],
    auth=auth.read,
)
def proposal(request: HttpRequest, proposal_id: int = Path(..., ge=1, le=MAX_ID)):
    """A proposal, for who may see it (its team, call managers, and once submitted the
    committee and assigned reviewers not in conflict): team, requests, the attachments'
    metadata (never their content) and versions. Anyone else gets 404."""
    user = _user(request)
    found = get_proposal_for_user(user=user, pk=proposal_id)
    overview = proposal_overview(proposal=found)
    p = overview.proposal
    team = [
        {
            "name": p.pi.full_name,
            "affiliation": p.pi_affiliation or p.pi.affiliation,
            "role": "pi",
            "status": TeamStatus.ACCEPTED,
        }
    ] + [
        {
            "name": m.user.full_name if m.user else "",
            "affiliation": m.user.affiliation if m.user else "",
            "role": "co-investigator",
            "status": m.status,
        }
        for m in overview.accepted
    ]
    if is_team_member(user, p) or can_manage_call(user, p.call):
        team += [
            {"name": "", "affiliation": "", "role": "co-investigator", "status": m.status}
            for m in overview.invited
        ]
    attachments = [
        {
            "id": a.pk,
            "kind": a.kind,
            "name": a.original_name,
            "size": a.size,
            "pages": a.pages,
            "uploaded_at": a.uploaded_at,
            "current": a.replaced_at is None,
        }
        for a in sorted(p.attachments.all(), key=lambda a: (a.uploaded_at, a.pk))
    ]
    return {
        "id": p.pk,
        "call_id": p.call_id,
        "call_code": p.call.code,
        "reference": p.reference,
        "acronym": p.acronym,
        "title": p.title,
        "abstract": p.abstract,
        "field": p.field,
        "keywords": list(p.keywords or []),
        "status": p.status,
        "submitted_at": p.submitted_at,
        "team": team,
        "requests": [
            {
                "resource": r.call_resource.resource.name,
                "unit": r.call_resource.resource.unit,
                "amount": r.amount,
                "justification": r.justification,
            }
            for r in overview.requests
        ],
        "attachments": attachments,
        "versions": [
            {"number": v.number, "submitted_at": v.submitted_at} for v in overview.versions
        ],
        "excluded_reviewers": p.excluded_reviewers if can_manage_call(user, p.call) else None,
    }


# --- Reviews and the ranking -----------------------------------------------------------------


def _review(row: ReviewRow) -> dict:
    review = row.review
    return {
        "id": review.pk,
        "kind": review.kind,
        "state": review.state,
        "due_at": review.due_at,
        "overdue": row.overdue,
        "submitted_at": review.submitted_at,
        "proposal_id": review.proposal_id,
        "reference": row.proposal.reference,
        "acronym": row.proposal.acronym,
        "title": row.proposal.title,
        "call_id": row.call.pk,
        "call_code": row.call.code,
    }


@api.get(
    "/reviews", response={200: schemas.MyReviewsOut, **ERRORS}, tags=["reviews"], auth=auth.read
)
def reviews(request: HttpRequest):
    """Your invitations to review and your reviews (conflicted ones left out)."""
    found = my_reviews(user=_user(request), now=timezone.now())
    return {
        "invitations": [_review(row) for row in found.invitations],
        "reviews": [_review(row) for row in found.reviews],
    }


@api.get(
    "/calls/{call_id}/ranking",
    response={200: schemas.RankingOut, **ERRORS},
    tags=["reviews"],
    auth=auth.read,
)
def ranking(request: HttpRequest, call_id: int = Path(..., ge=1, le=MAX_ID)):
    """The call's ranking with the budget line, for its committee (without the proposals a
    member is in conflict with or on the team of) and call managers; 403 for anyone else."""
    user = _user(request)
    found = get_call_for_ranking(user=user, pk=call_id)
    result = call_ranking(call=found, user=user, page=None)
    return {
        "call_id": found.pk,
        "threshold": result.threshold,
        "hidden": result.hidden,
        "rows": [
            {
                "rank": row.rank,
                "proposal_id": row.proposal_id,
                "reference": row.reference,
                "acronym": row.acronym,
                "title": row.title,
                "pi_name": row.pi_name,
                "field": row.field_code,
                "submitted_reviews": row.submitted,
                "assigned_reviews": row.assigned,
                "score": row.score,
                "normalised": row.normalised,
                "spread": row.spread,
                "spread_flagged": row.spread_flagged,
                "technical_verdict": row.verdict,
                "fundable": row.fundable,
                "resources": [
                    {
                        "resource": cell.offer.resource.name,
                        "requested": cell.requested,
                        "recommended": cell.recommended,
                        "cumulative": cell.cumulative,
                        "within_budget": not cell.over_budget,
                    }
                    for cell in row.cells
                ],
            }
            for row in result.rows
        ],
    }


# --- Decisions and allocations -----------------------------------------------------------------


@api.get(
    "/calls/{call_id}/decisions",
    response={200: schemas.DecisionsOut, **ERRORS},
    tags=["decisions"],
    auth=auth.read,
)
def decisions(request: HttpRequest, call_id: int = Path(..., ge=1, le=MAX_ID)):
    """The call's decisions in ranking order, with the awarded amounts against the budgets:
    for call managers and (reading) the call's committee, as the decisions page; 403 for
    anyone else."""
    user = _user(request)
    found = get_call_for_decisions(user=user, pk=call_id)
    sheet = decision_sheet(call=found, user=user, page=1, per_page=10**9)
    units = {offer.pk: offer.resource for offer in sheet.offers}
    return {
        "call_id": found.pk,
        "published_at": found.decisions_published_at,
        "budgets": [
            {
                "resource": total.offer.resource.name,
                "unit": total.offer.resource.unit,
                "budget": total.offer.budget,
                "awarded": total.awarded,
            }
            for total in sheet.totals
        ],
        "rows": [
            {
                "rank": row.ranking.rank,
                "proposal_id": row.ranking.proposal_id,
                "reference": row.ranking.reference,
                "acronym": row.ranking.acronym,
                "outcome": row.saved.outcome if row.saved else None,
                "response": row.saved.response if row.saved else None,
                "published_at": row.saved.published_at if row.saved else None,
                "amounts": [
                    {"resource": units[pk].name, "unit": units[pk].unit, "amount": amount}
                    for pk, amount in sorted(row.saved.amounts.items())
                    if pk in units
                ]
                if row.saved
                else [],
            }
            for row in sheet.all_rows
        ],
    }
