"""The decision on one proposal as its reader may see it, and the people its emails go to
(PRODUCT §6): the team never reads an unpublished decision."""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User
from proposals.decisions.enums import AWARDING
from proposals.decisions.models import AwardLine, Decision
from proposals.review.rules import can_read_all_reviews
from proposals.submission.enums import TeamStatus
from proposals.submission.models import Proposal, TeamMember
from proposals.submission.rules import is_team_member


class DecisionAudience:
    TEAM = "team"
    COMMITTEE = "committee"


@dataclass(frozen=True)
class AwardedAmount:
    resource: str
    unit: str
    amount: Decimal


@dataclass(frozen=True)
class ProposalDecision:
    """The decision on one proposal as its reader may see it. ``decision`` is None when there
    is none to show: none saved yet, or (for the team) not published yet."""

    audience: str
    published: bool
    decision: Decision | None
    amounts: list[AwardedAmount]

    @property
    def is_award(self) -> bool:
        return self.decision is not None and self.decision.outcome in AWARDING


def can_read_decision(user: User, proposal: Proposal) -> bool:
    """The proposal's team (who see it once published), call managers, and committee members
    not in conflict (who see it as soon as it is saved)."""
    return is_team_member(user, proposal) or can_read_all_reviews(user, proposal)


def proposal_decision(*, proposal: Proposal, user: User) -> ProposalDecision:
    """The decision on ``proposal`` for ``user``, who may read it (``can_read_decision``).

    The team never gets an unpublished decision: no outcome, amount or message before the
    call's decisions are published. Someone on the team gets the team's view whatever other
    role they hold in the call. Two queries.
    """
    published = proposal.call.decisions_published_at is not None
    audience = (
        DecisionAudience.TEAM if is_team_member(user, proposal) else DecisionAudience.COMMITTEE
    )
    if audience == DecisionAudience.TEAM and not published:
        return ProposalDecision(audience=audience, published=False, decision=None, amounts=[])
    decision = (
        Decision.objects.filter(proposal=proposal)
        .select_related("responded_by", "decided_by")
        .first()
    )
    if decision is None or (audience == DecisionAudience.TEAM and decision.published_at is None):
        return ProposalDecision(audience=audience, published=published, decision=None, amounts=[])
    lines = AwardLine.objects.filter(decision=decision, amount__gt=0).select_related(
        "call_resource__resource"
    )
    amounts = [
        AwardedAmount(
            resource=line.call_resource.resource.name,
            unit=line.call_resource.resource.unit,
            amount=line.amount,
        )
        for line in lines
    ]
    if decision.outcome not in AWARDING:
        amounts = []
    return ProposalDecision(
        audience=audience, published=published, decision=decision, amounts=amounts
    )


def team_recipients(*, proposals: list[Proposal]) -> dict[int, list[User]]:
    """The PI first, then each co-investigator who accepted, each person once, by proposal
    id. The proposals come with their PIs; one query for every team."""
    people: dict[int, dict[int, User]] = {p.pk: {p.pi_id: p.pi} for p in proposals}
    members = (
        TeamMember.objects.filter(
            proposal__in=[p.pk for p in proposals], status=TeamStatus.ACCEPTED
        )
        .select_related("user")
        .order_by("invited_at", "id")
    )
    for member in members:
        assert member.user is not None  # team_accepted_has_user: accepted means a user
        people[member.proposal_id].setdefault(member.user.pk, member.user)
    return {key: list(value.values()) for key, value in people.items()}
