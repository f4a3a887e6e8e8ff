"""Builders for the tests of decisions, publishing and the waitlist (PRODUCT §6).

``worked_example`` is the call every test starts from: one resource with a budget of
1,000,000 GPU-hours (at most 500,000 per proposal), a fundable threshold of 3.00, and six
proposals submitted through the real service, then scored by one reviewer (criteria
weighted 2 and 1 on 0–5, so a score is (2 × excellence + feasibility) / 3):

    rank  acronym  score  requested  technical recommendation
    1     ALPHA    5.00   400,000    —
    2     BRAVO    4.33   400,000    300,000
    3     CHARLIE  4.00   400,000    —
    4     DELTA    3.67   100,000    —
    5     ECHO     3.00   200,000    —          (exactly at the threshold)
    6     FOXTROT  2.00   100,000    —          (below it)
"""

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User
from proposals.calls.models import Call
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.services.saving import DecisionData, decisions_save
from proposals.submission.models import Proposal, ResourceRequest
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.factories import make_call, make_resource
from tests.proposal_factories import add_call_role, add_member, complete_proposal
from tests.proposals.test_ranking import in_review, scientific, technical

BUDGET = Decimal(1_000_000)
# acronym, excellence, feasibility, requested, recommended
EXAMPLE = [
    ("ALPHA", 5, 5, 400_000, None),
    ("BRAVO", 5, 3, 400_000, 300_000),
    ("CHARLIE", 4, 4, 400_000, None),
    ("DELTA", 4, 3, 100_000, None),
    ("ECHO", 3, 3, 200_000, None),
    ("FOXTROT", 2, 2, 100_000, None),
]


@dataclass
class Example:
    call: Call
    proposals: dict[str, Proposal]
    reviewer: User
    technical: User

    def __getitem__(self, acronym: str) -> Proposal:
        return self.proposals[acronym]

    @property
    def offer_id(self) -> int:
        return self.call.call_resources.get().pk


def decisions_call(**fields) -> Call:
    """An open call with one resource: budget 1,000,000, 10,000 to 500,000 per proposal; one
    scientific review per proposal."""
    fields.setdefault("reviewers_per_proposal", 1)
    return make_call(
        resources=[(make_resource(), BUDGET, Decimal(10_000), Decimal(500_000))],
        fundable_threshold=Decimal("3.00"),
        **fields,
    )


def submitted(call: Call, pi: User, acronym: str, requested: int) -> Proposal:
    """A complete proposal asking ``requested`` of the call's resource, submitted through
    ``proposal_submit``."""
    proposal = complete_proposal(call, pi, acronym=acronym, title=f"The {acronym} project")
    ResourceRequest.objects.filter(proposal=proposal).update(amount=Decimal(requested))
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


def worked_example(*, pi: User | None = None, coi: User | None = None) -> Example:
    """The call of the module docstring, in review. ``pi`` (with ``coi`` accepted on the team)
    leads ALPHA when given; the others are led by pi-<acronym>@uni.example."""
    call = decisions_call()
    proposals = {}
    for acronym, _excellence, _feasibility, requested, _recommended in EXAMPLE:
        owner = pi if (pi is not None and acronym == "ALPHA") else None
        owner = owner or make_user(f"pi-{acronym.lower()}@uni.example", full_name=f"{acronym} Lead")
        proposals[acronym] = submitted(call, owner, acronym, requested)
    if coi is not None:
        add_member(proposals["ALPHA"], coi)
    in_review(call)
    reviewer = make_user("rita@review.example", full_name="Rita Reviewer")
    checker = make_user("tom@centre.example", full_name="Tom Technical")
    for acronym, excellence, feasibility, _requested, recommended in EXAMPLE:
        proposal = proposals[acronym]
        scientific(
            proposal,
            reviewer,
            excellence,
            feasibility,
            comment=f"Comment to the applicant of {acronym}.",
            confidential=f"Confidential note on {acronym}.",
        )
        if recommended is not None:
            technical(proposal, checker, "feasible_with_changes", recommended)
    # The review is complete: each proposal has the one review the call asks for, and the
    # review due date has passed, so publishing needs no reason (PRODUCT §6).
    Call.objects.filter(pk=call.pk).update(review_due_at=call.closes_at)
    call.refresh_from_db()
    return Example(call=call, proposals=proposals, reviewer=reviewer, technical=checker)


def decide(example: Example, by: User, outcomes: dict[str, tuple[str, int | None]], **messages):
    """Save decisions through ``decisions_save``: acronym → (outcome, amount or None for the
    default); ``messages``: acronym → message."""
    rows = []
    for acronym, (outcome, amount) in outcomes.items():
        amounts = {} if amount is None else {example.offer_id: Decimal(amount)}
        rows.append(
            DecisionData(
                proposal=example[acronym],
                outcome=outcome,
                amounts=amounts,
                message=messages.get(acronym, ""),
            )
        )
    return decisions_save(call=example.call, by=by, rows=rows)


# The decisions of the suggestion, saved: what most publishing tests start from.
SUGGESTED = {
    "ALPHA": (DecisionOutcome.AWARDED, 400_000),
    "BRAVO": (DecisionOutcome.AWARDED, 300_000),
    "CHARLIE": (DecisionOutcome.PARTIALLY_AWARDED, 300_000),
    "DELTA": (DecisionOutcome.WAITLISTED, None),
    "ECHO": (DecisionOutcome.WAITLISTED, None),
    "FOXTROT": (DecisionOutcome.REJECTED, None),
}


def decide_all(example: Example, by: User) -> None:
    """The suggested decisions, with a message to ALPHA."""
    decide(example, by, SUGGESTED, ALPHA="Congratulations: a strong proposal.")


def on_committee(call: Call, user: User) -> None:
    add_call_role(call, user)
