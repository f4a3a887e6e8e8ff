"""Reads for a researcher's list of proposals and for one proposal's overview.

Shaped so the list page uses a constant number of queries whatever the number of proposals.
"""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.db.models import Field, Prefetch, prefetch_related_objects
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.enums import ScienceField
from accounts.models import User
from proposals.calls.models import CallResource
from proposals.submission.enums import (
    EDITABLE,
    AttachmentKind,
    ProposalSection,
    ProposalStatus,
    TeamStatus,
)
from proposals.submission.models import (
    GENERAL_FIELDS,
    TECHNICAL_FIELDS,
    Attachment,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.submission.selectors.completeness import Problem, proposal_problems

# How many missing parts a row of "My proposals" names before "and N more".
MISSING_SHOWN = 3


def _checked_lookups() -> tuple:
    return (
        Prefetch("call__call_resources", queryset=CallResource.objects.select_related("resource")),
        Prefetch(
            "requests", queryset=ResourceRequest.objects.select_related("call_resource__resource")
        ),
        "scaling",
        "attachments",
    )


def with_everything_checked(proposals):
    """What ``proposal_problems`` reads, prefetched."""
    return proposals.select_related("call", "pi").prefetch_related(*_checked_lookups())


def problem_label(problem: Problem, proposal: Proposal) -> str:
    """A short name of what a problem is about, for "Missing: title, scaling table, …"."""
    name = problem.field
    if name == "scaling":
        return _("scaling table")
    if name == "requests":
        return _("resource request")
    if name == "description":
        return _("project description")
    if name.startswith("request-"):
        offer_id = int(name.split("-")[1])
        offer = next((o for o in proposal.call.call_resources.all() if o.pk == offer_id), None)
        resource = offer.resource.name if offer else _("a resource")
        if name.endswith("-justification"):
            return _("justification for %(resource)s") % {"resource": resource}
        return _("amount on %(resource)s") % {"resource": resource}
    try:
        model_field = Proposal._meta.get_field(name)
    except LookupError:  # FieldDoesNotExist is a LookupError
        return name
    assert isinstance(model_field, Field)  # problems name fields, not reverse relations
    return str(model_field.verbose_name)


def problem_url(problem: Problem, proposal: Proposal) -> str:
    """The page and field where a problem is fixed: ``…/edit/general/#id_title``."""
    if problem.section == ProposalSection.TEAM:
        page = reverse("proposal_team", args=[proposal.pk])
    elif problem.section == ProposalSection.ATTACHMENTS:
        page = reverse("proposal_attachments", args=[proposal.pk])
    else:
        page = reverse("proposal_edit", args=[proposal.pk, problem.section])
    return f"{page}#id_{problem.field}"


@dataclass(frozen=True)
class ProposalRow:
    """One row of "My proposals": the proposal and, for a draft, what still stops it."""

    proposal: Proposal
    missing: list[str]
    more: int

    @property
    def is_draft(self) -> bool:
        return self.proposal.status == ProposalStatus.DRAFT


@dataclass(frozen=True)
class MyProposals:
    rows: list[ProposalRow]
    invitations: list[TeamMember]


def missing_parts(proposal: Proposal) -> tuple[list[str], int]:
    labels: list[str] = []
    for problem in proposal_problems(proposal):
        label = problem_label(problem, proposal)
        if label not in labels:
            labels.append(label)
    return labels[:MISSING_SHOWN], max(len(labels) - MISSING_SHOWN, 0)


def pending_invitations(*, user: User) -> list[TeamMember]:
    """Open invitations addressed to one of ``user``'s verified addresses, to proposals that
    are not withdrawn and that ``user`` does not lead."""
    addresses = [
        address.lower()
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]
    if not addresses:
        return []
    return list(
        TeamMember.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses, status=TeamStatus.INVITED)
        .exclude(proposal__status=ProposalStatus.WITHDRAWN)
        .exclude(proposal__pi=user)
        .select_related("proposal__call", "proposal__pi", "invited_by")
        .order_by("-invited_at", "-id")
    )


def my_proposals(*, user: User) -> MyProposals:
    """Every proposal ``user`` leads or has joined, newest change first, each draft with what
    is still missing; and the invitations waiting for ``user``. Seven queries at most,
    whatever the number of proposals."""
    proposals = with_everything_checked(Proposal.objects.with_member(user)).order_by(
        "-updated_at", "-id"
    )
    rows = []
    for proposal in proposals:
        missing, more = missing_parts(proposal) if proposal.status in EDITABLE else ([], 0)
        rows.append(ProposalRow(proposal=proposal, missing=missing, more=more))
    return MyProposals(rows=rows, invitations=pending_invitations(user=user))


@dataclass(frozen=True)
class LinkedProblem:
    problem: Problem
    url: str

    @property
    def message(self) -> str:
        return self.problem.message


@dataclass
class SectionSummary:
    section: ProposalSection
    url: str
    problems: list[LinkedProblem] = field(default_factory=list)

    @property
    def label(self) -> str | Promise:
        return self.section.label


@dataclass(frozen=True)
class Overview:
    """What the overview page shows of one proposal, read in a fixed number of queries."""

    proposal: Proposal
    sections: list[SectionSummary]
    problems: list[LinkedProblem]
    accepted: list[TeamMember]
    invited: list[TeamMember]
    requests: list[ResourceRequest]
    scaling: list[ScalingPoint]
    description: Attachment | None
    cvs: list[Attachment]
    versions: list[ProposalVersion]


def _section_url(section: ProposalSection, proposal: Proposal) -> str:
    if section == ProposalSection.TEAM:
        return reverse("proposal_team", args=[proposal.pk])
    if section == ProposalSection.ATTACHMENTS:
        return reverse("proposal_attachments", args=[proposal.pk])
    return reverse("proposal_edit", args=[proposal.pk, section])


def proposal_overview(*, proposal: Proposal) -> Overview:
    """The overview of a proposal the caller has already fetched (with its call and PI) and
    checked: each section with its problems (for a draft), the team, the requests, the files
    and the versions, prefetched onto it (six queries; the proposal is not read again)."""
    prefetch_related_objects(
        [proposal],
        *_checked_lookups(),
        Prefetch("team", queryset=TeamMember.objects.select_related("user")),
        Prefetch(
            "versions",
            queryset=ProposalVersion.objects.select_related("submitted_by").order_by("number"),
        ),
    )
    problems = proposal_problems(proposal) if proposal.status in EDITABLE else []
    sections = [
        SectionSummary(section=section, url=_section_url(section, proposal))
        for section in ProposalSection
    ]
    by_section = {summary.section: summary for summary in sections}
    linked = []
    for problem in problems:
        item = LinkedProblem(problem=problem, url=problem_url(problem, proposal))
        by_section[problem.section].problems.append(item)
        linked.append(item)
    team = list(proposal.team.all())
    current = [a for a in proposal.attachments.all() if a.replaced_at is None]
    return Overview(
        proposal=proposal,
        sections=sections,
        problems=linked,
        accepted=[m for m in team if m.status == TeamStatus.ACCEPTED],
        invited=[m for m in team if m.status == TeamStatus.INVITED],
        requests=[r for r in proposal.requests.all() if r.amount],
        scaling=list(proposal.scaling.all()),
        description=next((a for a in current if a.kind == AttachmentKind.DESCRIPTION), None),
        cvs=[a for a in current if a.kind == AttachmentKind.CV],
        versions=list(proposal.versions.all()),
    )


def readable_snapshot(snapshot: dict, *, with_exclusions: bool) -> dict:
    """The snapshot with labels beside the values, as the form shows them; without the
    reviewers the applicant asked to exclude unless ``with_exclusions`` (the reader is a
    manager or on the team, PRODUCT §1.1)."""
    fields = snapshot.get("fields", {})

    def label(name: str) -> str:
        model_field = Proposal._meta.get_field(name)
        assert isinstance(model_field, Field)  # a snapshot holds fields, not reverse relations
        return capfirst(str(model_field.verbose_name))

    def value(name: str):
        raw = fields.get(name)
        if name == "field" and raw:
            return ScienceField(raw).label if raw in ScienceField.values else raw
        if name == "pi_country" and raw:
            return countries.name(raw) or raw
        if name == "keywords":
            return ", ".join(raw or [])
        return raw

    def rows(names: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(label(name), value(name)) for name in names]

    return {
        "general": rows(
            tuple(n for n in GENERAL_FIELDS if with_exclusions or n != "excluded_reviewers")
        ),
        "technical": rows(TECHNICAL_FIELDS),
        "pi": snapshot.get("pi", {}),
        "team": snapshot.get("team", []),
        "requests": snapshot.get("requests", []),
        "scaling": snapshot.get("scaling", []),
        "attachments": snapshot.get("attachments", []),
    }
