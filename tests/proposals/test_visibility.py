"""Who sees what (PRODUCT §1.1), walked through every page and export that shows a proposal or
its reviews, for every role, under each ``review_visibility`` setting and in each phase.

One proposal, P (SECRET-P…), is the subject. It has three reviews: Rita's (the persona
``reviewer``, the "assigned reviewer" walked here), Zora's and Tess's technical one. Another
applicant's proposal, Q, is reviewed by Oscar ("another reviewer of the call") and Cora, who
is in conflict with P ("a reviewer in conflict"). Carla sits on the committee and is in
conflict with P. Every text that must stay hidden is a distinctive marker, searched for in
every response body:

- reviewer names and emails never reach the applicants (P's team and the other applicant),
  and reviewers never see each other's names;
- confidential comments (CONFIDENTIAL-MARKER-…) reach only the committee and the managers
  (and their own author);
- scores never reach applicants before the decisions are published;
- people in conflict get 404 for P's pages and no row for P in the ranking and its export;
- the other applicant never sees anything of P.

Statuses: 200 shown, 403 may know it exists but not see this, 404 may not know it exists,
"login" for the anonymous visitor sent to sign in.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind, ReviewVisibility
from proposals.calls.models import Call
from proposals.review.enums import ConflictStatus, ReviewState
from proposals.review.models import Review
from proposals.review.services.reply import reply_submit, reply_window_open
from proposals.submission.models import Proposal
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, add_member
from tests.proposals.test_ranking import (
    conflict,
    in_review,
    pending,
    scientific,
    submitted_proposal,
    technical,
)

pytestmark = pytest.mark.django_db

ROLES = (
    "pi",
    "coi",
    "applicant",
    "assigned_reviewer",
    "other_reviewer",
    "conflicted_reviewer",
    "committee",
    "conflicted_committee",
    "manager",
    "anonymous",
)
PAGES = (
    "proposal_detail",
    "proposal_version",
    "attachment_download",
    "proposal_reviews",
    "call_ranking",
    "call_ranking_csv",
    "proposal_reply",
    "my_proposals",
)
PHASES = ("in_progress", "reply_open", "published")
SETTINGS = (ReviewVisibility.NEVER, ReviewVisibility.AFTER_OWN, ReviewVisibility.ALWAYS)

TEAM = {"pi", "coi"}
APPLICANTS = {"pi", "coi", "applicant"}
REVIEWERS = {"assigned_reviewer", "other_reviewer", "conflicted_reviewer"}
READ_ALL = {"committee", "manager"}

# What identifies P (title, acronym, reference) and its people.
P_TITLE = "SECRET-P-TITLE scaling sparse models"
P_ACRONYM = "SECRETP"
P_REFERENCE = "JUP27-1-0001"
Q_TITLE = "Q-TITLE of the other applicant"
IDENTITY = {
    "assigned_reviewer": ("Rita Reviewer", "reviewer@inst.example"),
    "zora": ("Zora Secondreviewer", "zora@review.example"),
    "tess": ("Tess Technicalreviewer", "tess@centre.example"),
    "other_reviewer": ("Oscar Otherreviewer", "oscar@review.example"),
    "conflicted_reviewer": ("Cora Conflictedreviewer", "cora@review.example"),
}
CONFIDENTIAL = {
    "zora": "CONFIDENTIAL-MARKER-42",
    "assigned_reviewer": "CONFIDENTIAL-MARKER-43",
    "tess": "CONFIDENTIAL-MARKER-44",
}
P_COMMENTS = {"zora": "P-COMMENT-ZORA-7", "assigned_reviewer": "P-COMMENT-RITA-8"}
P_REPLY = "P-REPLY-MARKER-9"
# Review scores of P, as any page would print them: Zora (2 × 4 + 2) / 3 = 3.33, Rita
# (2 × 5 + 3) / 3 = 4.33, P's mean (3.33 + 4.33) / 2 = 3.83 (3.33 while Rita's is missing).
# "(of 0–5)" and "Weighted score" go with every printed criterion score.
P_SCORES = ("3.33", "4.33", "3.83", "(of 0–5)", "Weighted score")


@dataclass
class World:
    call: Call
    proposal: Proposal
    urls: dict[str, str]
    people: dict[str, User | None]


def build(setting: str, phase: str, *, pi, coi, outsider, reviewer, committee, manager) -> World:
    call = make_call(right_of_reply=True, review_visibility=setting)
    people: dict[str, User | None] = {
        "pi": pi,
        "coi": coi,
        "applicant": outsider,
        "assigned_reviewer": reviewer,
        "other_reviewer": make_user("oscar@review.example", full_name="Oscar Otherreviewer"),
        "conflicted_reviewer": make_user(
            "cora@review.example", full_name="Cora Conflictedreviewer"
        ),
        "committee": committee,
        "conflicted_committee": make_user("carla@board.example", full_name="Carla Conflicted"),
        "manager": manager,
        "anonymous": None,
    }
    zora = make_user("zora@review.example", full_name="Zora Secondreviewer")
    tess = make_user("tess@centre.example", full_name="Tess Technicalreviewer")
    for person in (reviewer, zora, people["other_reviewer"], people["conflicted_reviewer"]):
        add_call_role(call, person, CallRoleKind.REVIEWER)
    add_call_role(call, tess, CallRoleKind.TECHNICAL)
    add_call_role(call, committee)
    add_call_role(call, people["conflicted_committee"])

    proposal = submitted_proposal(call, pi, P_ACRONYM, title=P_TITLE)
    add_member(proposal, coi)
    other = submitted_proposal(call, outsider, "QPROP", title=Q_TITLE)
    assert proposal.reference == P_REFERENCE
    in_review(call)
    conflict(proposal, people["conflicted_reviewer"], ConflictStatus.DECLARED)
    conflict(proposal, people["conflicted_committee"], ConflictStatus.CONFIRMED)

    scientific(
        proposal,
        zora,
        4,
        2,
        comment=P_COMMENTS["zora"],
        confidential=CONFIDENTIAL["zora"],
    )
    technical(proposal, tess, "feasible_with_changes", 70_000, notes=CONFIDENTIAL["tess"])
    if phase == "in_progress":
        pending(proposal, reviewer)
    else:
        scientific(
            proposal,
            reviewer,
            5,
            3,
            comment=P_COMMENTS["assigned_reviewer"],
            confidential=CONFIDENTIAL["assigned_reviewer"],
        )
    scientific(other, people["other_reviewer"], 5, 1, comment="Q-COMMENT-OSCAR")
    scientific(other, people["conflicted_reviewer"], 2, 1, comment="Q-COMMENT-CORA")

    if phase in {"reply_open", "published"}:
        reply_window_open(call=call, by=manager)
        call.refresh_from_db()
        reply_submit(proposal=proposal, by=pi, text=P_REPLY)
    if phase == "published":
        now = timezone.now()
        Call.objects.filter(pk=call.pk).update(
            reply_opens_at=now - timedelta(days=15),
            reply_opened_at=now - timedelta(days=15),
            reply_closes_at=now - timedelta(days=1),
            decisions_published_at=now,
        )
    call.refresh_from_db()

    description = proposal.attachments.get(replaced_at__isnull=True)
    urls = {
        "proposal_detail": reverse("proposal_detail", args=[proposal.pk]),
        "proposal_version": reverse("proposal_version", args=[proposal.pk, 1]),
        "attachment_download": reverse("attachment_download", args=[proposal.pk, description.pk]),
        "proposal_reviews": reverse("proposal_reviews", args=[proposal.pk]),
        "call_ranking": reverse("call_ranking", args=[call.pk]),
        "call_ranking_csv": reverse("call_ranking_csv", args=[call.pk]),
        "proposal_reply": reverse("proposal_reply", args=[proposal.pk]),
        "my_proposals": reverse("my_proposals"),
    }
    return World(call=call, proposal=proposal, urls=urls, people=people)


def reviewer_sees_others(setting: str, phase: str) -> bool:
    """The assigned reviewer (Rita) may read the other reviews of P (PRODUCT §1.1)."""
    if setting == ReviewVisibility.ALWAYS:
        return True
    if setting == ReviewVisibility.AFTER_OWN:
        return phase != "in_progress"  # her review is submitted from the reply phase on
    return False


def expected_status(role: str, page: str, setting: str, phase: str) -> int | str:
    if role == "anonymous":
        return "login"
    if page == "my_proposals":
        return 200
    if page in {"call_ranking", "call_ranking_csv"}:
        return 200 if role in {"committee", "conflicted_committee", "manager"} else 403
    may_see_p = role in TEAM | READ_ALL | {"assigned_reviewer"}
    if not may_see_p:
        return 404
    if page in {"proposal_detail", "proposal_version", "attachment_download"}:
        return 200
    shared_with_team = phase != "in_progress"
    if page == "proposal_reviews":
        if role in TEAM:
            return 200 if shared_with_team else 403
        if role == "assigned_reviewer":
            return 200 if reviewer_sees_others(setting, phase) else 403
        return 200
    if page == "proposal_reply":
        return 200 if role in TEAM and shared_with_team else 403
    raise AssertionError(page)


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("latin-1")
    return response.content.decode()


def leaks(role: str, body: str, setting: str, phase: str) -> list[str]:
    """The hidden texts found in ``body`` for ``role``."""
    forbidden: list[str] = []
    # Reviewers' identities: never to applicants; reviewers never see each other's names.
    if role in APPLICANTS:
        forbidden += [text for pair in IDENTITY.values() for text in pair]
    if role in REVIEWERS:
        forbidden += [text for who, pair in IDENTITY.items() if who != role for text in pair]
    # Confidential comments: the committee and the managers only (and their own author).
    if role not in READ_ALL:
        forbidden += [text for who, text in CONFIDENTIAL.items() if who != role]
    # Scores: never to applicants before publication; the other applicant never sees P's.
    if role in TEAM and phase != "published" or role == "applicant":
        forbidden += list(P_SCORES)
    # The comments to the applicant: to P's team once shared, never to outsiders of P.
    if role in TEAM and phase == "in_progress":
        forbidden += list(P_COMMENTS.values())
    if role == "assigned_reviewer" and not reviewer_sees_others(setting, phase):
        forbidden += [P_COMMENTS["zora"], "Technical review", "Feasible with changes"]
    # Nothing at all of P for those who may not know it, or are in conflict with it.
    if role in {"applicant", "other_reviewer", "conflicted_reviewer", "conflicted_committee"}:
        forbidden += [P_TITLE, P_ACRONYM, P_REFERENCE, P_REPLY, *P_COMMENTS.values()]
    # The reply: the team, the committee and the managers.
    if role in REVIEWERS:
        forbidden.append(P_REPLY)
    return sorted({text for text in forbidden if shows(body, text)})


def shows(body: str, text: str) -> bool:
    """Whether ``body`` shows ``text``; a score such as "4.33" only as a number of its own, not
    inside the microseconds of a timestamp ("16:30:04.331234") that happen to match."""
    if re.fullmatch(r"\d+\.\d+", text):
        return re.search(rf"(?<![\d.]){re.escape(text)}(?![\d])", body) is not None
    return text in body


def answer(client: Client, user: User | None, url: str):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("setting", SETTINGS)
def test_nobody_sees_what_section_1_1_hides(
    client, setting, phase, pi, coi, outsider, reviewer, committee, manager
):
    world = build(
        setting,
        phase,
        pi=pi,
        coi=coi,
        outsider=outsider,
        reviewer=reviewer,
        committee=committee,
        manager=manager,
    )
    problems = []
    for role in ROLES:
        for page in PAGES:
            url = world.urls[page]
            response = answer(client, world.people[role], url)
            status: int | str = response.status_code
            if role == "anonymous" and status == 302:
                login = f"{reverse('account_login')}?next={url}"
                status = "login" if response["Location"] == login else response["Location"]
            wanted = expected_status(role, page, setting, phase)
            if status != wanted:
                problems.append(f"{role} {page}: {status}, expected {wanted}")
            found = leaks(role, body_of(response), setting, phase)
            if found:
                problems.append(f"{role} {page} ({status}) shows {found}")
            if page == "proposal_detail" and status == 200:
                problems += sidebar_problems(role, body_of(response), world, setting, phase)
    assert problems == []


def sidebar_problems(role: str, body: str, world: World, setting: str, phase: str) -> list[str]:
    """The proposal's sidebar links to its reviews and its right of reply exactly for those
    whom these pages let in."""
    problems = []
    for page in ("proposal_reviews", "proposal_reply"):
        linked = f'href="{world.urls[page]}"' in body
        if linked != (expected_status(role, page, setting, phase) == 200):
            problems.append(f"{role} proposal_detail: link to {page} {linked}")
    return problems


def test_the_committee_and_the_managers_do_see_it_all(
    client, pi, coi, outsider, reviewer, committee, manager
):
    """The markers are real: where they may appear, they do (a guard on the test above)."""
    world = build(
        ReviewVisibility.AFTER_OWN,
        "reply_open",
        pi=pi,
        coi=coi,
        outsider=outsider,
        reviewer=reviewer,
        committee=committee,
        manager=manager,
    )
    for role in ("committee", "manager"):
        reviews = body_of(answer(client, world.people[role], world.urls["proposal_reviews"]))
        for text in [
            *CONFIDENTIAL.values(),
            *P_COMMENTS.values(),
            P_REPLY,
            "Rita Reviewer",
            "zora@review.example",
            "Tess Technicalreviewer",
            "4.33",
            "3.83",
        ]:
            assert text in reviews, (role, text)
        for page in ("call_ranking", "call_ranking_csv"):
            body = body_of(answer(client, world.people[role], world.urls[page]))
            assert P_REFERENCE in body and P_TITLE in body and "3.83" in body, (role, page)
    team = body_of(answer(client, pi, world.urls["proposal_reviews"]))
    assert P_COMMENTS["zora"] in team and P_REPLY in team
    rita = body_of(answer(client, reviewer, world.urls["proposal_reviews"]))
    assert P_COMMENTS["zora"] in rita and CONFIDENTIAL["assigned_reviewer"] in rita
    carla = body_of(
        answer(client, world.people["conflicted_committee"], world.urls["call_ranking"])
    )
    assert Q_TITLE in carla


def test_after_publication_the_team_sees_the_scores(
    client, pi, coi, outsider, reviewer, committee, manager
):
    world = build(
        ReviewVisibility.NEVER,
        "published",
        pi=pi,
        coi=coi,
        outsider=outsider,
        reviewer=reviewer,
        committee=committee,
        manager=manager,
    )
    for person in (pi, coi):
        body = body_of(answer(client, person, world.urls["proposal_reviews"]))
        for text in ["Weighted score", "4.33", "3.33", "(of 0–5)"]:
            assert text in body, text


def test_a_review_taken_back_by_its_reviewer_is_no_longer_shown_to_applicants(
    client, pi, coi, outsider, reviewer, committee, manager
):
    """A removed assignment is not a review: nothing of it reaches anyone but managers."""
    world = build(
        ReviewVisibility.ALWAYS,
        "reply_open",
        pi=pi,
        coi=coi,
        outsider=outsider,
        reviewer=reviewer,
        committee=committee,
        manager=manager,
    )
    Review.objects.filter(proposal=world.proposal, reviewer=reviewer).update(
        state=ReviewState.REMOVED
    )
    body = body_of(answer(client, pi, world.urls["proposal_reviews"]))
    assert P_COMMENTS["assigned_reviewer"] not in body
    assert P_COMMENTS["zora"] in body
