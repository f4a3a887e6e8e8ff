"""Conflicts of interest are found by themselves (PRODUCT §5.1 as amended): on submission, team
changes, the call's people, a profile's affiliation, before each suggestion and on each manual
assignment; the committee is checked and can declare; a detected conflict whose cause is gone
is withdrawn unless confirmed; managers undo confirmations and dismissals. Over HTTP."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from proposals.calls.enums import CallRoleKind
from proposals.calls.models import AuditEntry
from proposals.review.enums import ConflictStatus, ReviewState
from proposals.review.models import Conflict, Review
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, add_member, complete_proposal
from tests.proposals.helpers import assert_guarded
from tests.proposals.test_manage_assignment import row_error

PI_SENTENCE = "Paula Investigator is the principal investigator."


@pytest.fixture
def call(db):
    return make_call(reviewers_per_proposal=1)


def submitted(call, pi, acronym: str, **fields):
    fields.setdefault("pi_affiliation", pi.affiliation)
    proposal = complete_proposal(call, pi, acronym=acronym, **fields)
    proposal_submit(proposal=proposal, by=pi)
    proposal.refresh_from_db()
    return proposal


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def conflicts(call) -> set[tuple[str, str, str, str]]:
    """(acronym, person's email, reason, status) of every conflict of the call."""
    return set(
        Conflict.objects.filter(proposal__call=call).values_list(
            "proposal__acronym", "reviewer__email", "reason", "status"
        )
    )


@pytest.fixture
def three(call, pi):
    """The PI's three proposals, then the PI put in the pool (nobody presses "Detect")."""
    proposals = [submitted(call, pi, acronym) for acronym in ("ALPHA", "BETA", "GAMMA")]
    add_call_role(call, pi, role=CallRoleKind.REVIEWER)  # written directly: no detection ran
    return proposals


def test_the_suggestion_never_proposes_the_pi_for_their_own_proposals(
    client, manager, call, three, pi
):
    client.force_login(manager)

    response = client.post(reverse("assignment_suggest", args=[call.pk]))

    assert response.status_code == 200
    assert response.context["suggestion"].pairs == []
    assert conflicts(call) == {(p.acronym, "pi@uni.example", "team", "detected") for p in three}
    entries = AuditEntry.objects.filter(action="conflict.detected")
    assert (
        sorted((e.call_id, e.actor_id, e.person_id) for e in entries)
        == [(call.pk, manager.pk, pi.pk)] * 3
    )


def test_a_manual_assignment_of_the_pi_is_refused_at_the_row(client, manager, call, pi, three):
    alpha = three[0]
    client.force_login(manager)

    response = client.post(
        reverse("review_assign", args=[alpha.pk]), {"reviewer": pi.email, "kind": "scientific"}
    )

    assert response.status_code == 400
    assert row_error(response, alpha) == (
        "Paula Investigator may have a conflict of interest with JUP27-1-0001: confirm or "
        f"dismiss the detected conflict first. {PI_SENTENCE}"
    )
    assert Review.objects.count() == 0
    assert ("ALPHA", "pi@uni.example", "team", "detected") in conflicts(call)


def test_submitting_detects_a_reviewer_of_the_same_affiliation(client, call, pi, reviewer):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    proposal = complete_proposal(call, pi, acronym="ALPHA", pi_affiliation="Inst Example")
    client.force_login(pi)

    client.post(reverse("proposal_submit", args=[proposal.pk]))

    assert conflicts(call) == {("ALPHA", "reviewer@inst.example", "affiliation", "detected")}


def test_adding_someone_to_the_pool_or_the_committee_detects(client, manager, call, pi, coi):
    add_member(submitted(call, pi, "ALPHA"), coi)
    client.force_login(manager)
    people = reverse("manage_call_people", args=[call.pk])

    client.post(people, {"email": pi.email, "role": "reviewer", "max_load": "4"})
    client.post(people, {"email": coi.email, "role": "committee"})

    assert conflicts(call) == {
        ("ALPHA", "pi@uni.example", "team", "detected"),
        ("ALPHA", "coi@lab.example", "team", "detected"),
    }


def test_an_affiliation_change_detects_and_a_gone_cause_is_withdrawn(client, call, pi, reviewer):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    submitted(call, pi, "ALPHA")  # Uni Example; Rita is at Inst Example
    client.force_login(reviewer)
    profile = {
        "full_name": "Rita Reviewer",
        "country": "DE",
        "expertise": ["PE6"],
        "keywords": "scaling",
        "time_zone": "Europe/Berlin",
    }

    client.post(reverse("profile"), {**profile, "affiliation": "Uni Example"})
    assert conflicts(call) == {("ALPHA", "reviewer@inst.example", "affiliation", "detected")}

    client.post(reverse("profile"), {**profile, "affiliation": "Inst Example"})
    assert conflicts(call) == {("ALPHA", "reviewer@inst.example", "affiliation", "withdrawn")}
    assert list(
        AuditEntry.objects.filter(action__startswith="conflict.")
        .order_by("pk")
        .values_list("action", "person_id")
    ) == [("conflict.detected", reviewer.pk), ("conflict.withdrawn", reviewer.pk)]


def test_a_confirmed_conflict_stays_when_its_cause_is_gone(client, manager, call, pi, reviewer):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    Conflict.objects.all().delete()
    submitted(call, pi, "ALPHA", pi_affiliation="Inst Example")
    conflict = Conflict.objects.get()
    client.force_login(manager)
    client.post(reverse("conflict_decide", args=[conflict.pk]), {"decision": "confirm"})
    proposal = conflict.proposal
    proposal.pi_affiliation = "Somewhere Else"
    proposal.save()

    client.post(reverse("manage_conflicts", args=[call.pk]))

    assert conflicts(call) == {("ALPHA", "reviewer@inst.example", "affiliation", "confirmed")}


def test_accepting_a_team_invitation_detects(client, call, pi, coi):
    proposal = submitted(call, pi, "ALPHA")
    add_call_role(call, coi, role=CallRoleKind.REVIEWER)
    Conflict.objects.all().delete()
    member = add_member(proposal, email=coi.email, status="invited")
    client.force_login(coi)

    client.post(reverse("invitation", args=[member.token]), {"action": "accept"})

    assert ("ALPHA", "coi@lab.example", "team", "detected") in conflicts(call)


# --- Managers undo a confirmation or a dismissal ----------------------------------------------


@pytest.fixture
def detected(call, pi, reviewer):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    submitted(call, pi, "ALPHA", pi_affiliation="Inst Example")
    return Conflict.objects.get()


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            "confirm",
            "The confirmation of the conflict of Rita Reviewer with JUP27-1-0001 is undone: it "
            "is to be decided again.",
        ),
        (
            "dismiss",
            "The dismissal of the conflict of Rita Reviewer with JUP27-1-0001 is undone: it is "
            "to be decided again.",
        ),
    ],
)
def test_a_manager_undoes_a_decision(client, manager, detected, decision, message):
    client.force_login(manager)
    decide = reverse("conflict_decide", args=[detected.pk])
    client.post(decide, {"decision": decision})

    response = client.post(decide, {"decision": "undo"})

    assert texts(response)[-1] == message
    detected.refresh_from_db()
    assert (detected.status, detected.decided_by, detected.decided_at) == (
        ConflictStatus.DETECTED,
        None,
        None,
    )
    past = "conflict.confirmed" if decision == "confirm" else "conflict.dismissed"
    undone = (
        "conflict.confirmation_undone" if decision == "confirm" else "conflict.dismissal_undone"
    )
    actions = list(
        AuditEntry.objects.filter(
            subject_type="conflict", subject_id=detected.pk, action__in=[past, undone]
        )
        .order_by("pk")
        .values_list("action", "actor", "before__status")
    )
    expected_before = "confirmed" if decision == "confirm" else "dismissed"
    assert actions == [
        (past, manager.pk, "Detected, to be checked"),
        (undone, manager.pk, expected_before),
    ]


def test_undo_of_an_undecided_conflict_says_why(client, manager, detected):
    client.force_login(manager)

    response = client.post(reverse("conflict_decide", args=[detected.pk]), {"decision": "undo"})

    assert texts(response) == [
        "Only a confirmed or dismissed conflict can be undone; this one is detected, to be checked."
    ]


def test_undo_is_for_managers_only(client, pi, detected):
    assert_guarded(client, pi, reverse("conflict_decide", args=[detected.pk]), method="post")


# --- The committee is checked and can declare -------------------------------------------------


@pytest.fixture
def on_committee(call, pi, committee):
    add_call_role(call, committee, role=CallRoleKind.COMMITTEE)
    return submitted(call, pi, "ALPHA")


def test_a_committee_member_declares_a_conflict(client, call, committee, on_committee):
    proposal = on_committee
    client.force_login(committee)
    page = client.get(reverse("proposal_reviews", args=[proposal.pk]))
    assert "Declare a conflict of interest" in page.content.decode()

    response = client.post(
        reverse("conflict_declare", args=[proposal.pk]), {"detail": "My former student."}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("call_ranking", args=[call.pk])
    assert conflicts(call) == {("ALPHA", "committee@board.example", "declared", "declared")}
    assert client.get(reverse("proposal_detail", args=[proposal.pk])).status_code == 404
    [entry] = AuditEntry.objects.filter(action="conflict.declared")
    assert (entry.actor, entry.after["detail"]) == (committee, "My former student.")


def test_a_committee_declaration_without_a_reason_says_so(client, committee, on_committee):
    client.force_login(committee)

    response = client.post(reverse("conflict_declare", args=[on_committee.pk]), {"detail": " "})

    assert response.status_code == 400
    assert "Please say briefly why you are in conflict with this proposal." in (
        response.content.decode()
    )
    assert Conflict.objects.count() == 0


def test_others_cannot_declare(client, outsider, on_committee):
    client.force_login(outsider)
    url = reverse("conflict_declare", args=[on_committee.pk])
    assert client.post(url, {"detail": "Why not."}).status_code == 404
    assert client.get(url).status_code == 405
    assert Conflict.objects.count() == 0


def test_the_committee_of_the_same_affiliation_is_detected(call, pi):
    board = make_user("board@uni.example", full_name="Bob Board", affiliation="Uni Example")
    add_call_role(call, board, role=CallRoleKind.COMMITTEE)

    submitted(call, pi, "ALPHA")

    assert conflicts(call) == {("ALPHA", "board@uni.example", "affiliation", "detected")}


def test_a_removed_review_stays_removed_when_a_confirmation_is_undone(
    client, manager, call, pi, reviewer
):
    add_call_role(call, reviewer, role=CallRoleKind.REVIEWER)
    proposal = submitted(call, pi, "ALPHA", pi_affiliation="Inst Example")
    conflict = Conflict.objects.get()
    client.force_login(manager)
    decide = reverse("conflict_decide", args=[conflict.pk])
    client.post(decide, {"decision": "dismiss"})
    client.post(
        reverse("review_assign", args=[proposal.pk]),
        {"reviewer": reviewer.email, "kind": "scientific"},
    )
    client.post(decide, {"decision": "undo"})
    client.post(decide, {"decision": "confirm"})
    client.post(decide, {"decision": "undo"})

    assert list(Review.objects.values_list("state", flat=True)) == [ReviewState.REMOVED]
