"""What still stops a proposal from being submitted (PRODUCT §4.2: checked all at once)."""

from dataclasses import dataclass

from django.db.models import Field
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from proposals.calls.models import CallResource
from proposals.submission.enums import AttachmentKind, ProposalSection
from proposals.submission.models import (
    GENERAL_FIELDS,
    OPTIONAL_FIELDS,
    TECHNICAL_FIELDS,
    Proposal,
    ResourceRequest,
)

REQUIRED_FIELDS: dict[str, ProposalSection] = {
    name: section
    for names, section in (
        (GENERAL_FIELDS, ProposalSection.GENERAL),
        (TECHNICAL_FIELDS, ProposalSection.TECHNICAL),
    )
    for name in names
    if name not in OPTIONAL_FIELDS
}


@dataclass(frozen=True)
class Problem:
    """One reason a proposal cannot be submitted, tied to the form field that fixes it.

    ``field`` is the form field's name in its section: a model field, ``scaling``,
    ``request-<call_resource_id>-amount`` / ``-justification``, ``requests`` or ``description``.
    Pending team invitations do not stop a submission (the overview warns about them).
    """

    section: ProposalSection
    field: str
    message: str


def proposal_problems(proposal: Proposal) -> list[Problem]:
    """Every missing or wrong part, in the order of the form. Empty means it can be submitted.

    Uses ``proposal.call.call_resources``, ``proposal.requests``, ``proposal.scaling`` and
    ``proposal.attachments``; prefetch them for lists.
    """
    return [
        *_field_problems(proposal),
        *_request_problems(proposal),
        *_scaling_problems(proposal),
        *_attachment_problems(proposal),
    ]


def _field_problems(proposal: Proposal) -> list[Problem]:
    problems = []
    for name, section in REQUIRED_FIELDS.items():
        if not getattr(proposal, name):
            model_field = proposal._meta.get_field(name)
            assert isinstance(model_field, Field)  # REQUIRED_FIELDS names fields, not relations
            label = model_field.verbose_name
            # Imperative, like the other problems, and right whatever the label's number.
            message = _("Fill in “%(field)s”.") % {"field": capfirst(label)}
            problems.append(Problem(section, name, message))
    return problems


def _request_problems(proposal: Proposal) -> list[Problem]:
    """Each requested amount within the call's bounds and justified; at least one asked."""
    problems: list[Problem] = []
    requests = {r.call_resource_id: r for r in proposal.requests.all()}
    asked_any = False
    for offer in proposal.call.call_resources.all():
        request = requests.get(offer.pk)
        if request is None or not request.amount:
            continue
        asked_any = True
        problems += _amount_problems(request, offer)
    if not asked_any:
        problems.append(
            Problem(
                ProposalSection.RESOURCES,
                "requests",
                _("Request an amount of at least one resource."),
            )
        )
    return problems


def _amount_problems(request: ResourceRequest, offer: CallResource) -> list[Problem]:
    problems = []
    prefix = f"request-{offer.pk}"
    unit = offer.resource.unit
    if request.amount < offer.min_request:
        problems.append(
            Problem(
                ProposalSection.RESOURCES,
                f"{prefix}-amount",
                _("At least %(min)s %(unit)s can be requested on %(resource)s.")
                % {
                    "min": f"{offer.min_request:,.0f}",
                    "unit": unit,
                    "resource": offer.resource.name,
                },
            )
        )
    if request.amount > offer.max_request:
        problems.append(
            Problem(
                ProposalSection.RESOURCES,
                f"{prefix}-amount",
                _("At most %(max)s %(unit)s can be requested on %(resource)s.")
                % {
                    "max": f"{offer.max_request:,.0f}",
                    "unit": unit,
                    "resource": offer.resource.name,
                },
            )
        )
    if not request.justification.strip():
        problems.append(
            Problem(
                ProposalSection.RESOURCES,
                f"{prefix}-justification",
                _("Explain how you arrived at the amount requested on %(resource)s.")
                % {"resource": offer.resource.name},
            )
        )
    return problems


def _scaling_problems(proposal: Proposal) -> list[Problem]:
    problems = []
    if not list(proposal.scaling.all()):
        problems.append(
            Problem(
                ProposalSection.TECHNICAL,
                "scaling",
                _("Add at least one row to the scaling table (GPUs and time per step)."),
            )
        )
    return problems


def _attachment_problems(proposal: Proposal) -> list[Problem]:
    problems = []
    has_description = any(
        a.kind == AttachmentKind.DESCRIPTION and a.replaced_at is None
        for a in proposal.attachments.all()
    )
    if not has_description:
        problems.append(
            Problem(
                ProposalSection.ATTACHMENTS,
                "description",
                _("Upload the project description (PDF)."),
            )
        )
    return problems
