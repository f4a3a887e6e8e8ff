"""Assignment services: the suggestion for a call, applying it, assigning and removing by hand."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from notifications.models import OutboxMessage
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import CallRole
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.services import assignment as services
from proposals.review.services.suggestion import assignment_suggest
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import proposal_submit, proposal_withdraw
from tests.conftest import make_manager, make_user
from tests.proposal_factories import add_call_role, complete_proposal, make_call_closing

pytestmark = pytest.mark.django_db


def assigned_emails():
    """The assignment emails (the submissions' receipts are in the outbox too)."""
    return OutboxMessage.objects.filter(kind="review-assigned")


@pytest.fixture
def call():
    # Reviews due 24 Feb 2099, 17:00 in Berlin.
    return make_call_closing(reviewers_per_proposal=1)


@pytest.fixture
def by():
    return make_manager()


def submitted(call, acronym: str, *, field: str = "PE6", keywords=()) -> Proposal:
    pi = make_user(f"pi-{acronym.lower()}@uni.example", affiliation=f"University of {acronym}")
    # Proposals without keywords cannot be submitted: the default ones match no reviewer here.
    keywords = list(keywords) or ["mixture of experts"]
    proposal = complete_proposal(call, pi, acronym=acronym, field=field, keywords=keywords)
    proposal_submit(proposal=proposal, by=pi)
    return proposal


def pool(call, name: str, expertise=("PE6",), keywords=(), max_load: int | None = None):
    user = make_user(
        f"{name.lower()}@review.example",
        full_name=name,
        affiliation=f"{name} Institute",
        expertise=list(expertise),
        keywords=list(keywords),
    )
    role = add_call_role(call, user, role=CallRoleKind.REVIEWER)
    if max_load is not None:
        CallRole.objects.filter(pk=role.pk).update(max_load=max_load)
    return user


def conflict(proposal, reviewer, status=ConflictStatus.CONFIRMED) -> Conflict:
    """A conflict for the same affiliation; a detected one has its cause (detection, which
    runs before every suggestion and assignment, withdraws a detected one without)."""
    if status == ConflictStatus.DETECTED:
        User.objects.filter(pk=reviewer.pk).update(affiliation=proposal.pi_affiliation)
    return Conflict.objects.create(
        proposal=proposal, reviewer=reviewer, reason=ConflictReason.AFFILIATION, status=status
    )


def invite(proposal, reviewer, by, kind=ReviewKind.SCIENTIFIC) -> Review:
    return services.review_assign(proposal=proposal, reviewer=reviewer, kind=kind, by=by)


def set_state(review: Review, state: str) -> None:
    extra = {"submitted_at": timezone.now()} if state == ReviewState.SUBMITTED else {}
    Review.objects.filter(pk=review.pk).update(state=state, **extra)


def suggested(suggestion) -> set[tuple[str, str]]:
    return {(pair.proposal.acronym, pair.reviewer.full_name) for pair in suggestion.pairs}


# --- Suggestion -------------------------------------------------------------------------------


def test_each_proposal_gets_the_reviewer_matching_its_field_and_keywords(call):
    submitted(call, "LLM", field="PE6", keywords=["Language models"])
    submitted(call, "GENOME", field="LS2", keywords=["genomics"])
    pool(call, "Ada", ["PE6"], ["language models"])
    pool(call, "Bea", ["LS2"], ["genomics"])
    pool(call, "Cem", ["SH3"])

    suggestion = assignment_suggest(call=call)

    assert suggested(suggestion) == {("LLM", "Ada"), ("GENOME", "Bea")}
    assert suggestion.problems == []
    assert (suggestion.proposals, suggestion.still_needed, suggestion.unmet) == (2, 2, 0)
    assert suggestion.field_match_share == 1.0
    assert suggestion.mean_keyword_percent == 100
    assert [p.acronym for p, _ in suggestion.by_proposal()] == ["LLM", "GENOME"]


def test_drafts_withdrawn_and_well_staffed_proposals_get_nobody(call, by):
    pool(call, "Ada", keywords=["mixture of experts"])
    staffed = submitted(call, "STAFFED")
    invite(staffed, pool(call, "Bea"), by)
    withdrawn = submitted(call, "GONE")
    proposal_withdraw(proposal=withdrawn, by=withdrawn.pi)
    complete_proposal(call, make_user("drafter@uni.example"), acronym="DRAFT")
    under_review = submitted(call, "REVIEW")
    # One proposal under review beside submitted ones: a mix no service makes (the deadline
    # moves a whole call), set directly because the mix is what this test is about.
    Proposal.objects.filter(pk=under_review.pk).update(status=ProposalStatus.UNDER_REVIEW)

    suggestion = assignment_suggest(call=call)

    assert suggested(suggestion) == {("REVIEW", "Ada")}
    assert suggestion.proposals == 2


def test_active_reviews_stay_and_count_toward_need_and_load(call, by):
    call.reviewers_per_proposal = 2
    call.save()
    first, second = submitted(call, "FIRST"), submitted(call, "SECOND")
    ada = pool(call, "Ada", max_load=1)
    bea = pool(call, "Bea", max_load=2)
    pool(call, "Cem", ["LS2"], max_load=2)
    invite(first, ada, by)  # Ada is full now.
    accepted = invite(second, bea, by)
    set_state(accepted, ReviewState.ACCEPTED)

    suggestion = assignment_suggest(call=call)

    # Bea matches the field; Cem, in another field, only where Bea cannot go.
    assert suggested(suggestion) == {("FIRST", "Bea"), ("SECOND", "Cem")}
    assert suggestion.still_needed == 2


def test_conflicts_and_declines_are_never_suggested_and_explain_a_shortfall(call, by):
    call.reviewers_per_proposal = 2
    call.save()
    alpha = submitted(call, "ALPHA")
    beta = submitted(call, "BETA", keywords=["graphs"])
    in_conflict = [pool(call, name, ["LS1"]) for name in ("Kai", "Lea", "Max")]
    for reviewer in in_conflict:
        conflict(alpha, reviewer)
    conflict(alpha, pool(call, "Ned", ["LS1"]), ConflictStatus.DETECTED)
    dismissed = pool(call, "Ola", ["LS1"], max_load=1)
    conflict(alpha, dismissed, ConflictStatus.DISMISSED)
    invite(beta, dismissed, by)  # Ola is full.
    pool(call, "Ada", ["PE6"], ["graphs"])
    declined = invite(alpha, pool(call, "Zoe", ["PE6"]), by)
    set_state(declined, ReviewState.DECLINED)

    suggestion = assignment_suggest(call=call)

    # Alpha: Kai, Lea, Max (confirmed) and Ned (detected) are out, Zoe declined, Ola is full.
    assert {pair for pair in suggested(suggestion) if pair[0] == "ALPHA"} == {("ALPHA", "Ada")}
    assert ("BETA", "Ada") in suggested(suggestion)
    [problem] = suggestion.problems
    assert problem.proposal == alpha
    assert problem.message == (
        "JUP27-1-0001 ALPHA needs 2 reviewers; only 1 eligible reviewer has capacity left "
        "(4 excluded by conflicts, 1 declined or removed earlier)."
    )
    assert suggestion.unmet == 1


def test_shortfall_messages_for_each_reason(call, by):
    lonely = submitted(call, "LONELY")
    full = submitted(call, "FULL")
    submitted(call, "BUSY", keywords=["graphs"])
    ada = pool(call, "Ada", keywords=["graphs"], max_load=1)
    bea = pool(call, "Bea", max_load=1)
    conflict(lonely, ada)
    conflict(lonely, bea)
    # FULL and BUSY both need one of Ada's and Bea's single places; Bea reviews FULL already.
    call.reviewers_per_proposal = 2
    call.save()
    invite(full, bea, by)

    messages = [problem.message for problem in assignment_suggest(call=call).problems]

    assert messages[0] == (
        "JUP27-1-0001 LONELY needs 2 reviewers; no reviewer of the pool is eligible "
        "(2 excluded by conflicts)."
    )
    assert sorted(messages[1:]) == sorted(
        [
            "JUP27-1-0002 FULL needs 1 more reviewer; 1 eligible reviewer has capacity left, but "
            "other proposals need it too: the pool cannot staff every proposal.",
            "JUP27-1-0003 BUSY needs 2 reviewers; only 1 eligible reviewer has capacity left.",
        ]
    )


def test_capacity_taken_message(call):
    submitted(call, "ONE")
    submitted(call, "TWO")
    pool(call, "Ada", max_load=1)

    suggestion = assignment_suggest(call=call)

    [problem] = suggestion.problems
    assert problem.message.endswith(
        "needs 1 reviewer; 1 eligible reviewer has capacity left, but other proposals need it "
        "too: the pool cannot staff every proposal."
    )


def test_a_reviewer_without_a_maximum_takes_the_default_load(call):
    for n in range(10):
        submitted(call, f"P{n}")
    pool(call, "Ada")

    suggestion = assignment_suggest(call=call)

    assert len(suggestion.pairs) == 8
    assert suggestion.unmet == 2


def test_a_declined_assignment_is_refilled_by_another_reviewer(call, by):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada", ["PE6"], ["x"])
    pool(call, "Bea", ["LS2"])
    review = invite(alpha, ada, by)
    set_state(review, ReviewState.DECLINED)

    assert suggested(assignment_suggest(call=call)) == {("ALPHA", "Bea")}


# --- Applying ----------------------------------------------------------------------------------


def test_apply_invites_each_reviewer_with_an_email(call, by):
    llm = submitted(call, "LLM", keywords=["language models"])
    genome = submitted(call, "GENOME", field="LS2")
    ada = pool(call, "Ada", ["PE6"], ["language models"])
    bea = pool(call, "Bea", ["LS2"])
    pairs = assignment_suggest(call=call).signed_pairs()

    result = services.assignment_apply(call=call, pairs=pairs, by=by)

    assert result.skipped == []
    reviews = Review.objects.order_by("pk")
    assert [
        (r.proposal, r.reviewer, r.kind, r.state, r.due_at, r.assigned_by) for r in reviews
    ] == [
        (llm, ada, ReviewKind.SCIENTIFIC, ReviewState.INVITED, call.review_due_at, by),
        (genome, bea, ReviewKind.SCIENTIFIC, ReviewState.INVITED, call.review_due_at, by),
    ]
    assert [r.pk for r in result.invited] == [r.pk for r in reviews]
    emails = assigned_emails().order_by("pk")
    assert [(m.event, m.recipient, m.subject) for m in emails] == [
        (
            f"review-assigned:{reviews[0].pk}",
            "ada@review.example",
            "[Allot] Review request: JUP27-1-0001 LLM (due 24 Feb 2099)",
        ),
        (
            f"review-assigned:{reviews[1].pk}",
            "bea@review.example",
            "[Allot] Review request: JUP27-1-0002 GENOME (due 24 Feb 2099)",
        ),
    ]
    body = emails[0].body_text
    assert f"/reviews/{reviews[0].pk}/" in body
    assert "Hello Ada," in body
    assert "The review is due on 24 Feb 2099, 17:00 CET (Europe/Berlin)." in body
    assert (
        'href="http' in emails[0].body_html and f"/reviews/{reviews[0].pk}/" in emails[0].body_html
    )


def test_apply_skips_pairs_that_are_no_longer_valid(call, by):
    call.reviewers_per_proposal = 2
    call.save()
    alpha, beta = submitted(call, "ALPHA"), submitted(call, "BETA")
    gamma, delta = submitted(call, "GAMMA"), submitted(call, "DELTA")
    ada = pool(call, "Ada", max_load=2)
    bea, cem, dan, eve = (pool(call, name) for name in ("Bea", "Cem", "Dan", "Eve"))
    pairs = [
        (alpha.pk, ada.pk),
        (alpha.pk, bea.pk),
        (beta.pk, cem.pk),
        (gamma.pk, ada.pk),
        (beta.pk, ada.pk),
        (delta.pk, dan.pk),
        (alpha.pk, ada.pk),
        (beta.pk, dan.pk),
        (beta.pk, bea.pk),
        (gamma.pk, dan.pk),
        (gamma.pk, eve.pk),
        (123456, dan.pk),
    ]
    # Since the suggestion: a conflict confirmed, a reviewer out of the pool, a proposal
    # withdrawn, a request declined.
    conflict(alpha, bea)
    CallRole.objects.filter(user=cem).delete()
    proposal_withdraw(proposal=delta, by=delta.pi)
    set_state(invite(beta, bea, by), ReviewState.DECLINED)

    result = services.assignment_apply(call=call, pairs=pairs, by=by)

    assert [(r.proposal.acronym, r.reviewer.full_name) for r in result.invited] == [
        ("ALPHA", "Ada"),
        ("GAMMA", "Ada"),
        ("BETA", "Dan"),
        ("GAMMA", "Dan"),
    ]
    assert [s.message for s in result.skipped] == [
        "JUP27-1-0001 × Bea: a conflict of interest blocks this pair",
        "JUP27-1-0002 × Cem: the reviewer is no longer in the call's reviewer pool",
        "JUP27-1-0002 × Ada: the reviewer has no load left",
        "JUP27-1-0004 × Dan: the proposal is no longer waiting for reviewers",
        "JUP27-1-0001 × Ada: the reviewer is already assigned to this proposal",
        "JUP27-1-0002 × Bea: the reviewer declined this proposal or was removed from it",
        "JUP27-1-0003 × Eve: the proposal already has its reviewers",
        "proposal #123456 × Dan: the proposal is no longer waiting for reviewers",
    ]
    assert Review.objects.filter(state=ReviewState.INVITED).count() == 4
    assert assigned_emails().count() == 4 + 1


def test_the_database_refuses_a_pair_in_conflict_and_nothing_is_assigned(call, by, monkeypatch):
    alpha, beta = submitted(call, "ALPHA"), submitted(call, "BETA")
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    conflict(beta, bea)
    # As if the conflict was confirmed after the service read the conflicts.
    monkeypatch.setattr(
        "proposals.review.selectors.assignment.blocked_pairs", lambda *, call: set()
    )

    with pytest.raises(ValidationError) as refused:
        services.assignment_apply(call=call, pairs=[(alpha.pk, ada.pk), (beta.pk, bea.pk)], by=by)

    assert refused.value.messages == [
        "A conflict of interest was recorded for one of these pairs in the meantime; nothing "
        "was assigned. Please ask for a new suggestion."
    ]
    assert Review.objects.count() == 0
    assert assigned_emails().count() == 0


def test_applying_the_same_suggestion_twice_invites_nobody_twice(call, by):
    submitted(call, "ALPHA")
    pool(call, "Ada")
    pairs = assignment_suggest(call=call).signed_pairs()

    services.assignment_apply(call=call, pairs=pairs, by=by)
    again = services.assignment_apply(call=call, pairs=pairs, by=by)

    assert again.invited == []
    assert [s.reason for s in again.skipped] == [
        "the reviewer is already assigned to this proposal"
    ]
    assert Review.objects.count() == assigned_emails().count() == 1


# --- By hand -----------------------------------------------------------------------------------


def test_assign_by_hand_invites_with_an_email(call, by):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    due = call.review_due_at - timedelta(days=10)

    review = services.review_assign(
        proposal=alpha, reviewer=ada, kind=ReviewKind.SCIENTIFIC, by=by, due_at=due
    )

    assert (review.state, review.kind, review.due_at, review.assigned_by) == (
        ReviewState.INVITED,
        ReviewKind.SCIENTIFIC,
        due,
        by,
    )
    [email] = assigned_emails().all()
    assert (email.event, email.recipient, email.subject) == (
        f"review-assigned:{review.pk}",
        "ada@review.example",
        "[Allot] Review request: JUP27-1-0001 ALPHA (due 14 Feb 2099)",
    )


def test_a_technical_review_goes_to_a_technical_reviewer(call, by):
    alpha = submitted(call, "ALPHA")
    staff = make_user("staff@centre.example", full_name="Sam Staff")
    add_call_role(call, staff, role=CallRoleKind.TECHNICAL)

    review = invite(alpha, staff, by, kind=ReviewKind.TECHNICAL)

    assert (review.kind, review.state) == (ReviewKind.TECHNICAL, ReviewState.INVITED)
    assert "technical review" in assigned_emails().get().body_text
    with pytest.raises(ValidationError) as refused:
        invite(alpha, staff, by)
    assert refused.value.messages == ["Sam Staff is not in the reviewer pool of JUPITER 2027-1."]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            ConflictStatus.CONFIRMED,
            "Ada has a conflict of interest with JUP27-1-0001 and cannot review it.",
        ),
        (
            ConflictStatus.DECLARED,
            "Ada has a conflict of interest with JUP27-1-0001 and cannot review it.",
        ),
        (
            ConflictStatus.DETECTED,
            "Ada may have a conflict of interest with JUP27-1-0001: confirm or dismiss the "
            "detected conflict first.",
        ),
    ],
)
def test_assign_by_hand_refuses_a_pair_in_conflict(call, by, status, message):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    conflict(alpha, ada, status)

    with pytest.raises(ValidationError) as refused:
        invite(alpha, ada, by)

    assert refused.value.messages == [message]
    assert Review.objects.count() == 0


def test_a_dismissed_conflict_does_not_stop_an_assignment(call, by):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    conflict(alpha, ada, ConflictStatus.DISMISSED)

    assert invite(alpha, ada, by).state == ReviewState.INVITED


def test_the_database_trigger_is_the_last_line_for_assignment_by_hand(call, by, monkeypatch):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    conflict(alpha, ada)
    monkeypatch.setattr(services, "_conflict_refusal", lambda proposal, reviewer: None)

    with pytest.raises(ValidationError) as refused:
        invite(alpha, ada, by)

    assert refused.value.messages == [
        "Ada has a conflict of interest with JUP27-1-0001 and cannot review it."
    ]
    assert Review.objects.count() == assigned_emails().count() == 0


def test_assign_by_hand_refusals(call, by):
    alpha = submitted(call, "ALPHA")
    draft = complete_proposal(call, make_user("drafter@uni.example"), acronym="DRAFT")
    ada = pool(call, "Ada", max_load=1)
    bea, cem = pool(call, "Bea"), pool(call, "Cem")
    outsider = make_user("out@else.example", full_name="Otto")
    set_state(invite(alpha, bea, by), ReviewState.DECLINED)
    Review.objects.filter(reviewer=bea).update(responded_at=call.closes_at)
    set_state(invite(alpha, cem, by), ReviewState.REMOVED)
    invite(alpha, ada, by)
    beta = submitted(call, "BETA")

    def refusal(proposal, reviewer, kind=ReviewKind.SCIENTIFIC) -> list[str]:
        with pytest.raises(ValidationError) as refused:
            invite(proposal, reviewer, by, kind=kind)
        return refused.value.messages

    assert refusal(draft, ada) == ["Only submitted proposals get reviewers; DRAFT is draft."]
    assert refusal(alpha, outsider) == ["Otto is not in the reviewer pool of JUPITER 2027-1."]
    assert refusal(alpha, ada, ReviewKind.TECHNICAL) == [
        "Ada is not a technical reviewer of JUPITER 2027-1."
    ]
    assert refusal(alpha, ada) == ["Ada is already assigned to JUP27-1-0001 (invited)."]
    assert refusal(alpha, bea) == [
        "Bea declined to review JUP27-1-0001 on 15 Jan 2099, 17:00 CET (Europe/Berlin)."
    ]
    assert refusal(alpha, cem) == [
        "Cem was removed from JUP27-1-0001 and cannot be assigned again."
    ]
    assert refusal(beta, ada) == ["Ada already has 1 of at most 1 reviews in JUPITER 2027-1."]
    assert refusal(beta, ada, "nonsense") == ["Choose a kind of review."]


def test_a_manager_may_give_a_proposal_more_reviewers_than_the_call_asks(call, by):
    alpha = submitted(call, "ALPHA")
    invite(alpha, pool(call, "Ada"), by)

    assert invite(alpha, pool(call, "Bea"), by).state == ReviewState.INVITED


# --- Removing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [ReviewState.INVITED, ReviewState.ACCEPTED])
def test_remove_an_invited_or_accepted_review(call, by, state):
    alpha = submitted(call, "ALPHA")
    review = invite(alpha, pool(call, "Ada"), by)
    set_state(review, state)
    review.refresh_from_db()

    services.review_remove(review=review, by=by)

    review.refresh_from_db()
    assert review.state == ReviewState.REMOVED


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            ReviewState.SUBMITTED,
            "A submitted review cannot be removed: it is part of the proposal's assessment. "
            "Reopen it if it must change.",
        ),
        (ReviewState.DECLINED, "This review is declined already; there is nothing to remove."),
        (
            ReviewState.REMOVED,
            "This review is removed by a manager already; there is nothing to remove.",
        ),
    ],
)
def test_remove_refusals(call, by, state, message):
    alpha = submitted(call, "ALPHA")
    review = invite(alpha, pool(call, "Ada"), by)
    set_state(review, state)

    with pytest.raises(ValidationError) as refused:
        services.review_remove(review=review, by=by)

    assert refused.value.messages == [message]
    review.refresh_from_db()
    assert review.state == state


def test_a_removed_overdue_review_is_refilled_by_someone_else(call, by):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada", ["PE6"], ["x"])
    pool(call, "Bea", ["LS2"])
    review = invite(alpha, ada, by)
    Review.objects.filter(pk=review.pk).update(due_at=timezone.now() - timedelta(days=1))

    assert suggested(assignment_suggest(call=call)) == set()
    services.review_remove(review=review, by=by)
    assert suggested(assignment_suggest(call=call)) == {("ALPHA", "Bea")}
