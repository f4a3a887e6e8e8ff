"""Each lifecycle's table of transitions, and the one way a state changes (STYLE: one
transition function per lifecycle; no state is assigned anywhere else)."""

import ast
import pathlib
from datetime import timedelta

import pytest

from accounts.lifecycle import Lifecycle, TransitionRefused
from allocations.enums import REQUEST_LIFECYCLE, RequestStatus
from notifications.enums import MESSAGE_LIFECYCLE, MessageStatus
from proposals.decisions.enums import (
    AWARD_RESPONSE_LIFECYCLE,
    BOOK_LIFECYCLE,
    AwardResponse,
    BookState,
)
from proposals.review.enums import (
    CONFLICT_LIFECYCLE,
    REVIEW_LIFECYCLE,
    ConflictStatus,
    ReviewState,
)
from proposals.submission.enums import (
    PROPOSAL_LIFECYCLE,
    TEAM_LIFECYCLE,
    ProposalStatus,
    TeamStatus,
)
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit, proposals_begin_review
from tests.factories import make_call
from tests.proposal_factories import complete_proposal

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("accounts", "notifications", "proposals", "allocations", "demo", "config")
LIFECYCLES = [
    (PROPOSAL_LIFECYCLE, ProposalStatus),
    (TEAM_LIFECYCLE, TeamStatus),
    (REVIEW_LIFECYCLE, ReviewState),
    (CONFLICT_LIFECYCLE, ConflictStatus),
    (AWARD_RESPONSE_LIFECYCLE, AwardResponse),
    (REQUEST_LIFECYCLE, RequestStatus),
    (MESSAGE_LIFECYCLE, MessageStatus),
    (BOOK_LIFECYCLE, BookState),
]
STATE_FIELDS = {"status", "state", "response"}


@pytest.mark.parametrize(("lifecycle", "states"), LIFECYCLES, ids=lambda v: getattr(v, "name", ""))
def test_every_transition_names_states_of_its_enumeration(lifecycle: Lifecycle, states):
    named = set(lifecycle.transitions) | set().union(*lifecycle.transitions.values())
    assert named <= set(states.values)


def test_proposal_lifecycle_is_the_one_of_product_4_2():
    moves = {
        (source, target)
        for source, targets in PROPOSAL_LIFECYCLE.transitions.items()
        for target in targets
    }
    assert moves == {
        ("draft", "submitted"),
        ("draft", "withdrawn"),
        ("submitted", "draft"),
        ("submitted", "under_review"),
        ("submitted", "withdrawn"),
        ("under_review", "awarded"),
        ("under_review", "partially_awarded"),
        ("under_review", "waitlisted"),
        ("under_review", "rejected"),
        ("under_review", "withdrawn"),
        ("waitlisted", "awarded"),
        ("waitlisted", "partially_awarded"),
    }


def _state_writes(path: pathlib.Path, root: pathlib.Path = ROOT) -> list[str]:
    """Assignments to a state attribute and UPDATEs of a state column, except copies marked
    ``# lifecycle:`` (the caller's object seeing the locked row)."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Attribute) and element.attr in STATE_FIELDS:
                        above = lines[node.lineno - 2] if node.lineno > 1 else ""
                        if "# lifecycle:" not in lines[node.lineno - 1] + above:
                            found.append(f"{path.relative_to(root)}:{node.lineno}")
        is_update = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "update"
        if is_update and any(keyword.arg in STATE_FIELDS for keyword in node.keywords):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_state_is_assigned_outside_the_lifecycles():
    paths = [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "lifecycle.py"
    ]
    writes = [write for path in paths for write in _state_writes(path)]
    assert writes == []


def test_the_scan_finds_a_state_written_by_hand(tmp_path):
    path = tmp_path / "services.py"
    path.write_text(
        "proposal.status = 'awarded'\n"
        "# lifecycle: the caller sees the locked row\n"
        "review.state = locked.state\n"
        "Proposal.objects.update(state='x')\n"
    )
    assert _state_writes(path, tmp_path) == ["services.py:1", "services.py:4"]


@pytest.mark.django_db
def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(pi):
    proposal = complete_proposal(make_call(), pi)

    with pytest.raises(TransitionRefused, match="draft → awarded"):
        PROPOSAL_LIFECYCLE.move(proposal, ProposalStatus.AWARDED)
    with pytest.raises(TransitionRefused):
        PROPOSAL_LIFECYCLE.move_all(Proposal.objects.filter(pk=proposal.pk), "rejected")

    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.DRAFT


@pytest.mark.django_db
def test_submitted_proposals_are_under_review_from_the_deadline_once(pi):
    call = make_call(closes_in=timedelta(days=3))
    proposal = complete_proposal(call, pi)
    draft = complete_proposal(call, pi, acronym="KEPT-DRAFT")
    proposal_submit(proposal=proposal, by=pi)
    deadline = call.closes_at

    assert proposals_begin_review(now=deadline - timedelta(seconds=1)) == 0
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.SUBMITTED

    assert proposals_begin_review(now=deadline) == 1
    assert proposals_begin_review(now=deadline + timedelta(minutes=5)) == 0
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.UNDER_REVIEW
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.DRAFT
