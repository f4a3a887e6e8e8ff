"""Conflicts of interest detected between a call's proposals and its reviewer pool (§5.1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ConflictReason, ConflictStatus
from proposals.review.models import Conflict
from proposals.review.selectors.conflicts import blocked_pairs, conflicts_for_pairs
from proposals.review.services.conflict_detection import conflicts_detect
from proposals.submission.enums import ProposalStatus, TeamStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit, proposal_withdraw
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, add_member, complete_proposal

REVIEWER = CallRoleKind.REVIEWER


@pytest.fixture
def call(db):
    return make_call()


def submitted(call, pi, acronym: str = "SPARSE-MOE", **fields) -> Proposal:
    """A submitted proposal led by ``pi``, with the PI's affiliation from their profile."""
    fields.setdefault("pi_affiliation", pi.affiliation)
    proposal = complete_proposal(call, pi, acronym=acronym, **fields)
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


def rows(call) -> set[tuple[str, str, str, str, str]]:
    """(proposal acronym, reviewer email, reason, status, detail) of every conflict."""
    return {
        (c.proposal.acronym, c.reviewer.email, c.reason, c.status, c.detail)
        for c in Conflict.objects.filter(proposal__call=call).select_related("proposal", "reviewer")
    }


def test_the_pi_in_the_pool_is_detected_as_team(call, pi):
    submitted(call, pi)
    add_call_role(call, pi, role=REVIEWER)

    assert conflicts_detect(call=call) == 1
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "pi@uni.example",
            "team",
            "detected",
            "Paula Investigator is the principal investigator.",
        )
    }


def test_accepted_and_invited_co_investigators_are_detected_declined_ones_not(call, pi, coi):
    proposal = submitted(call, pi)
    invited = make_user("ines@lab.example", full_name="Ines Invited", affiliation="Elsewhere")
    declined = make_user("dora@lab.example", full_name="Dora Declined", affiliation="Far away")
    add_member(proposal, coi)
    # An invitation not answered yet has no user: it is found by its email.
    add_member(proposal, email="INES@lab.example", status=TeamStatus.INVITED)
    add_member(proposal, declined, status=TeamStatus.DECLINED)
    for person in (coi, invited, declined):
        add_call_role(call, person, role=REVIEWER)

    assert conflicts_detect(call=call) == 2
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "coi@lab.example",
            "team",
            "detected",
            "Carl Coinvestigator is a co-investigator.",
        ),
        (
            "SPARSE-MOE",
            "ines@lab.example",
            "team",
            "detected",
            "INES@lab.example is invited as a co-investigator.",
        ),
    }


def test_same_affiliation_as_the_pi_despite_case_accents_and_punctuation(call, pi):
    submitted(call, pi, pi_affiliation="Forschungszentrum Jülich")
    colleague = make_user(
        "fritz@fz-juelich.example",
        full_name="Fritz Kollege",
        affiliation="forschungszentrum julich.",
    )
    other = make_user("ola@else.example", full_name="Ola Other", affiliation="Universität Köln")
    add_call_role(call, colleague, role=REVIEWER)
    add_call_role(call, other, role=REVIEWER)

    assert conflicts_detect(call=call) == 1
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "fritz@fz-juelich.example",
            "affiliation",
            "detected",
            "Same affiliation as the PI, Paula Investigator: Forschungszentrum Jülich.",
        )
    }


def test_the_pi_profile_affiliation_counts_when_the_proposal_has_none(call, pi):
    proposal = submitted(call, pi)
    Proposal.objects.filter(pk=proposal.pk).update(pi_affiliation="")
    colleague = make_user("uwe@uni.example", full_name="Uwe Colleague", affiliation="UNI EXAMPLE")
    add_call_role(call, colleague, role=REVIEWER)

    assert conflicts_detect(call=call) == 1
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "uwe@uni.example",
            "affiliation",
            "detected",
            "Same affiliation as the PI, Paula Investigator: Uni Example.",
        )
    }


def test_same_affiliation_as_an_accepted_co_investigator_only(call, pi, coi):
    proposal = submitted(call, pi)
    add_member(proposal, coi)  # Lab Example
    invited = make_user("ivo@inst.example", full_name="Ivo Invited", affiliation="Inst Example")
    add_member(proposal, invited, status=TeamStatus.INVITED)
    lab_colleague = make_user("lena@lab.example", full_name="Lena Lab", affiliation="Lab-Example")
    inst_colleague = make_user("ida@inst.example", full_name="Ida Inst", affiliation="Inst Example")
    add_call_role(call, lab_colleague, role=REVIEWER)
    add_call_role(call, inst_colleague, role=REVIEWER)

    assert conflicts_detect(call=call) == 1
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "lena@lab.example",
            "affiliation",
            "detected",
            "Same affiliation as co-investigator Carl Coinvestigator: Lab Example.",
        )
    }


def test_a_co_investigator_in_the_pool_is_not_in_conflict_with_their_own_affiliation(call, pi, coi):
    proposal = submitted(call, pi)
    add_member(proposal, coi)
    add_call_role(call, coi, role=REVIEWER)

    conflicts_detect(call=call)

    assert {(r[1], r[2]) for r in rows(call)} == {("coi@lab.example", "team")}


def test_reviewers_the_applicant_asked_to_exclude_by_email_or_name(call, pi, reviewer):
    excluded = (
        "REVIEWER@Inst.Example (works for a competitor)\n"
        "\n"
        "Dr. RÍTA  Reviewer – co-author until 2025\n"
        "Rita Reviewers-Club\n"
        "Hans Unknown"
    )
    submitted(call, pi, excluded_reviewers=excluded)
    bystander = make_user("bea@else.example", full_name="Bea Bystander", affiliation="Elsewhere")
    add_call_role(call, reviewer, role=REVIEWER)
    add_call_role(call, bystander, role=REVIEWER)

    assert conflicts_detect(call=call) == 1
    assert rows(call) == {
        (
            "SPARSE-MOE",
            "reviewer@inst.example",
            "excluded",
            "detected",
            "The applicant asked to exclude: “REVIEWER@Inst.Example (works for a competitor)”. "
            "The applicant asked to exclude: “Dr. RÍTA  Reviewer – co-author until 2025”.",
        )
    }


def test_one_reviewer_can_have_several_reasons_with_one_proposal(call, pi):
    submitted(call, pi, pi_affiliation="Uni Example", excluded_reviewers="pi@uni.example")
    add_call_role(call, pi, role=REVIEWER)

    assert conflicts_detect(call=call) == 2
    assert {(r[2], r[4]) for r in rows(call)} == {
        ("team", "Paula Investigator is the principal investigator."),
        ("excluded", "The applicant asked to exclude: “pi@uni.example”."),
    }


def test_technical_reviewers_and_the_committee_are_checked_pending_roles_are_not(
    call, pi, committee
):
    submitted(call, pi, pi_affiliation="Forschungszentrum Jülich")
    staff = make_user("sam@fz-juelich.example", full_name="Sam Staff")  # FZJ by default
    add_call_role(call, staff, role=CallRoleKind.TECHNICAL)
    add_call_role(call, committee, role=CallRoleKind.COMMITTEE)  # FZJ too: conflicts bind it
    # Someone in the pool by email who has not signed up yet (no account to compare).
    call.roles.create(role=REVIEWER, email="nobody-yet@fz-juelich.example")

    assert conflicts_detect(call=call) == 2
    assert {(r[1], r[2]) for r in rows(call)} == {
        ("sam@fz-juelich.example", "affiliation"),
        ("committee@board.example", "affiliation"),
    }


def test_only_proposals_in_review_are_compared(call, pi, coi, outsider):
    submitted(call, pi, acronym="SUBMITTED")
    under_review = submitted(call, coi, acronym="IN-REVIEW")
    withdrawn = submitted(call, outsider, acronym="WITHDRAWN")
    proposal_withdraw(proposal=withdrawn, by=outsider)
    complete_proposal(call, pi, acronym="DRAFT")
    awarded = submitted(call, pi, acronym="AWARDED")
    # Under review and awarded beside submitted ones in one call: a mix no service makes (the
    # deadline and the publication move a whole call), set directly because the mix is what
    # this test is about.
    Proposal.objects.filter(pk=under_review.pk).update(status=ProposalStatus.UNDER_REVIEW)
    Proposal.objects.filter(pk=awarded.pk).update(status=ProposalStatus.AWARDED)
    for person in (pi, coi, outsider):
        add_call_role(call, person, role=REVIEWER)

    conflicts_detect(call=call)

    assert {(r[0], r[1], r[2]) for r in rows(call)} == {
        ("SUBMITTED", "pi@uni.example", "team"),
        ("IN-REVIEW", "coi@lab.example", "team"),
    }


def test_other_calls_are_left_alone(call, pi):
    other_call = make_call("JUPITER 2027-2")
    submitted(other_call, pi, acronym="ELSEWHERE")
    add_call_role(call, pi, role=REVIEWER)
    add_call_role(other_call, pi, role=REVIEWER)

    assert conflicts_detect(call=call) == 0
    assert Conflict.objects.count() == 0


def test_running_twice_creates_nothing_new(call, pi, reviewer):
    submitted(call, pi, excluded_reviewers="Rita Reviewer")
    add_call_role(call, pi, role=REVIEWER)
    add_call_role(call, reviewer, role=REVIEWER)
    assert conflicts_detect(call=call) == 2
    before = rows(call)
    ids = set(Conflict.objects.values_list("pk", flat=True))

    assert conflicts_detect(call=call) == 0
    assert rows(call) == before
    assert set(Conflict.objects.values_list("pk", flat=True)) == ids


def test_decided_conflicts_are_never_touched(call, pi, reviewer, manager):
    proposal = submitted(call, pi, excluded_reviewers="Rita Reviewer")
    add_call_role(call, pi, role=REVIEWER)
    add_call_role(call, reviewer, role=REVIEWER)
    conflicts_detect(call=call)
    decided_at = timezone.now()
    Conflict.objects.filter(reviewer=pi).update(
        status=ConflictStatus.CONFIRMED, decided_by=manager, decided_at=decided_at
    )
    Conflict.objects.filter(reviewer=reviewer).update(
        status=ConflictStatus.DISMISSED, decided_by=manager, decided_at=decided_at, detail="Edited"
    )

    assert conflicts_detect(call=call) == 0
    assert set(
        Conflict.objects.values_list(
            "proposal_id",
            "reviewer__email",
            "reason",
            "status",
            "detail",
            "decided_by",
            "decided_at",
        )
    ) == {
        (
            proposal.pk,
            "pi@uni.example",
            "team",
            "confirmed",
            "Paula Investigator is the principal investigator.",
            manager.pk,
            decided_at,
        ),
        (
            proposal.pk,
            "reviewer@inst.example",
            "excluded",
            "dismissed",
            "Edited",
            manager.pk,
            decided_at,
        ),
    }


def test_a_new_reason_is_added_beside_a_decided_one(call, pi, reviewer, manager):
    proposal = submitted(call, pi)
    add_call_role(call, reviewer, role=REVIEWER)
    Conflict.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        reason=ConflictReason.EXCLUDED,
        status=ConflictStatus.DISMISSED,
        decided_by=manager,
        decided_at=timezone.now(),
    )
    Proposal.objects.filter(pk=proposal.pk).update(pi_affiliation="Inst Example")

    assert conflicts_detect(call=call) == 1
    assert set(Conflict.objects.values_list("reason", "status")) == {
        ("excluded", "dismissed"),
        ("affiliation", "detected"),
    }


def test_detection_uses_the_same_queries_for_one_and_three_proposals(call, pi, coi, outsider):
    for person in (pi, coi, outsider):
        add_call_role(call, person, role=REVIEWER)
    submitted(call, pi, acronym="ONE")
    Conflict.objects.all().delete()  # found at the submission already
    with CaptureQueriesContext(connection) as one:
        assert conflicts_detect(call=call) == 1
    Conflict.objects.all().delete()
    submitted(call, coi, acronym="TWO")
    submitted(call, outsider, acronym="THREE")
    Conflict.objects.all().delete()
    with CaptureQueriesContext(connection) as three:
        assert conflicts_detect(call=call) == 3

    assert len(three) == len(one)


# --- What the assignment suggestion reads ---------------------------------------------------


def conflict(proposal, reviewer, status, reason=ConflictReason.DECLARED) -> Conflict:
    return Conflict.objects.create(
        proposal=proposal, reviewer=reviewer, reason=reason, status=status
    )


def test_blocked_pairs_are_every_pair_with_a_conflict_that_is_not_dismissed(
    call, pi, coi, reviewer, committee, outsider
):
    first = submitted(call, pi, acronym="FIRST")
    second = submitted(call, coi, acronym="SECOND")
    conflict(first, reviewer, ConflictStatus.DETECTED, ConflictReason.AFFILIATION)
    conflict(first, committee, ConflictStatus.CONFIRMED, ConflictReason.TEAM)
    conflict(second, reviewer, ConflictStatus.DECLARED)
    conflict(second, outsider, ConflictStatus.DISMISSED, ConflictReason.EXCLUDED)
    # Dismissed for one reason, still detected for another: blocked.
    conflict(second, committee, ConflictStatus.DISMISSED, ConflictReason.AFFILIATION)
    conflict(second, committee, ConflictStatus.DETECTED, ConflictReason.EXCLUDED)
    elsewhere = submitted(make_call("JUPITER 2027-2"), pi, acronym="ELSEWHERE")
    conflict(elsewhere, reviewer, ConflictStatus.CONFIRMED, ConflictReason.TEAM)

    assert blocked_pairs(call=call) == {
        (first.pk, reviewer.pk),
        (first.pk, committee.pk),
        (second.pk, reviewer.pk),
        (second.pk, committee.pk),
    }


def test_blocked_pairs_of_a_call_without_conflicts_is_empty(call):
    assert blocked_pairs(call=call) == set()


def test_conflicts_for_pairs_gives_every_status_of_each_pair(call, pi, reviewer, committee):
    proposal = submitted(call, pi)
    conflict(proposal, reviewer, ConflictStatus.DISMISSED, ConflictReason.AFFILIATION)
    conflict(proposal, reviewer, ConflictStatus.DECLARED)
    conflict(proposal, committee, ConflictStatus.DETECTED, ConflictReason.TEAM)

    assert conflicts_for_pairs(call) == {
        (proposal.pk, reviewer.pk): {"dismissed", "declared"},
        (proposal.pk, committee.pk): {"detected"},
    }
