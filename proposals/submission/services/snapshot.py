"""What a submission freezes (PRODUCT §4.2): the proposal as JSON for its version, and the
prefetches that checking and freezing read, each in one query."""

from typing import Any

from django.db.models import Prefetch, prefetch_related_objects

from proposals.calls.models import CallResource
from proposals.submission.enums import TeamStatus
from proposals.submission.models import (
    PROPOSAL_FIELDS,
    Attachment,
    Proposal,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)


def submission_prefetches() -> list[Prefetch]:
    """What checking and freezing a proposal reads, each in one query and in the order the
    snapshot keeps (``accepted_team``: the co-investigators who accepted)."""
    return [
        Prefetch(
            "requests",
            ResourceRequest.objects.select_related("call_resource__resource").order_by(
                "call_resource__resource__name", "id"
            ),
        ),
        Prefetch("scaling", ScalingPoint.objects.order_by("position", "gpus")),
        Prefetch("attachments", Attachment.objects.order_by("kind", "uploaded_at", "id")),
        Prefetch(
            "team",
            TeamMember.objects.filter(status=TeamStatus.ACCEPTED)
            .select_related("user")
            .order_by("invited_at", "id"),
            to_attr="accepted_team",
        ),
        Prefetch("call__call_resources", CallResource.objects.select_related("resource")),
    ]


def proposal_snapshot(proposal: Proposal) -> dict[str, Any]:
    """Everything a submission freezes, as JSON: the fields, the PI, the accepted team, the
    requests, the scaling table and the current attachments.

    Reads what ``submission_prefetches`` names, loading whatever is not prefetched yet."""
    prefetch_related_objects([proposal], *submission_prefetches())
    team = proposal.accepted_team  # type: ignore[attr-defined]
    requests = proposal.requests.all()
    attachments = [a for a in proposal.attachments.all() if a.replaced_at is None]
    return {
        "reference": proposal.reference,
        "call": {"id": proposal.call_id, "code": proposal.call.code, "name": proposal.call.name},
        "fields": {
            name: (str(value) if name == "pi_country" else value)
            for name in PROPOSAL_FIELDS
            for value in [getattr(proposal, name)]
        },
        "pi": {
            "name": proposal.pi.display_name,
            "email": proposal.pi.email,
            "affiliation": proposal.pi_affiliation,
        },
        "team": [
            {
                "name": user.display_name,
                "email": user.email,
                "affiliation": user.affiliation,
            }
            for member in team
            # Always a user: the constraint team_accepted_has_user.
            if (user := member.user) is not None
        ],
        "requests": [
            {
                "resource": request.call_resource.resource.name,
                "unit": request.call_resource.resource.unit,
                "amount": str(request.amount),
                "justification": request.justification,
            }
            for request in requests
        ],
        "scaling": [
            {"gpus": point.gpus, "seconds_per_step": str(point.seconds_per_step)}
            for point in proposal.scaling.all()
        ],
        "attachments": [
            {
                "id": attachment.pk,
                "kind": attachment.kind,
                "original_name": attachment.original_name,
                "pages": attachment.pages,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
            for attachment in attachments
        ],
    }
