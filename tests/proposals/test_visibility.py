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

import csv
import io
import json
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind, ReviewVisibility
from proposals.calls.models import Call
from proposals.review.enums import ConflictStatus
from proposals.review.services.assignment import review_remove
from proposals.review.services.reply import reply_submit, reply_window_open
from proposals.review.services.reviewing import review_reopen
from proposals.submission.models import Proposal
from tests.conftest import make_manager, make_user
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
    setting: str
    phase: str
    call: Call
    proposal: Proposal
    urls: dict[str, str]
    people: dict[str, User | None]


def build(setting: str, phase: str) -> World:
    """P, Q, their people and reviews, as the module docstring tells, in ``phase``."""
    manager = make_manager()
    people: dict[str, User | None] = {
        "pi": make_user("pi@uni.example", full_name="Paula Investigator", affiliation="Uni"),
        "coi": make_user("coi@lab.example", full_name="Carl Coinvestigator", affiliation="Lab"),
        "applicant": make_user("outsider@else.example", full_name="Otto Outsider"),
        "assigned_reviewer": make_user("reviewer@inst.example", full_name="Rita Reviewer"),
        "other_reviewer": make_user("oscar@review.example", full_name="Oscar Otherreviewer"),
        "conflicted_reviewer": make_user(
            "cora@review.example", full_name="Cora Conflictedreviewer"
        ),
        "committee": make_user("committee@board.example", full_name="Conrad Committee"),
        "conflicted_committee": make_user("carla@board.example", full_name="Carla Conflicted"),
        "manager": manager,
        "anonymous": None,
    }
    pi, reviewer = people["pi"], people["assigned_reviewer"]
    assert pi is not None and reviewer is not None
    call = make_call(right_of_reply=True, review_visibility=setting)
    zora = make_user("zora@review.example", full_name="Zora Secondreviewer")
    tess = make_user("tess@centre.example", full_name="Tess Technicalreviewer")
    for role in ("assigned_reviewer", "other_reviewer", "conflicted_reviewer"):
        add_call_role(call, people[role], CallRoleKind.REVIEWER)
    add_call_role(call, zora, CallRoleKind.REVIEWER)
    add_call_role(call, tess, CallRoleKind.TECHNICAL)
    add_call_role(call, people["committee"])
    add_call_role(call, people["conflicted_committee"])

    proposal = submitted_proposal(call, pi, P_ACRONYM, title=P_TITLE)
    add_member(proposal, people["coi"])
    other = submitted_proposal(call, people["applicant"], "QPROP", title=Q_TITLE)
    assert proposal.reference == P_REFERENCE
    in_review(call)
    conflict(proposal, people["conflicted_reviewer"], ConflictStatus.DECLARED)
    conflict(proposal, people["conflicted_committee"], ConflictStatus.CONFIRMED)

    scientific(proposal, zora, 4, 2, comment=P_COMMENTS["zora"], confidential=CONFIDENTIAL["zora"])
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
    return World(
        setting=setting, phase=phase, call=call, proposal=proposal, urls=urls, people=people
    )


WORLDS = [(setting, phase) for setting in SETTINGS for phase in PHASES]


@pytest.fixture(scope="module", params=WORLDS, ids=lambda world: "-".join(world))
def world(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """One world per setting and phase, built once for all the tests that look at it, inside
    a transaction rolled back after them (each test's own changes are rolled back to a
    savepoint inside it, by pytest-django as usual)."""
    setting, phase = request.param
    media = tmp_path_factory.mktemp("visibility-uploads")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        yield build(setting, phase)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _media_root():
    """The world's files stay in its folder: no empty folder per test (tests/conftest.py)."""


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


class _ScoreCells(HTMLParser):
    """The text of the elements that show a score: a review's table of scores
    (``table.review-scores``: each criterion "4 (of 0–5)" and the "Weighted score"), the
    ranking's score cells (``td[data-label=Score]``) and the proposal's score among the
    committee's facts (the ``dd`` after the ``dt`` "Score")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._reading: tuple[str, int] | None = None  # the tag read and its nesting depth
        self._term: str | None = None  # the text of the last <dt>, while it is read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._reading is not None:
            name, depth = self._reading
            self._reading = (name, depth + (tag == name))
            return
        found = dict(attrs)
        shows_score = (
            (tag == "table" and "review-scores" in (found.get("class") or "").split())
            or (tag == "td" and found.get("data-label") == "Score")
            or (tag == "dd" and (self._term or "").strip() == "Score")
        )
        if tag == "dt":
            self._term = ""
        elif shows_score:
            self._reading = (tag, 1)
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._reading is not None and tag == self._reading[0]:
            depth = self._reading[1] - 1
            self._reading = (tag, depth) if depth else None
        if tag == "dd":
            self._term = None

    def handle_data(self, data: str) -> None:
        if self._reading is not None:
            self.cells[-1] += f" {data}"
        elif self._term is not None:
            self._term += data


def _json_scores(value) -> list[str]:
    """Every value under a key that names a score, anywhere in an API answer."""
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in (
                [str(item)] if "score" in key and not isinstance(item, dict | list) else []
            )
            + _json_scores(item)
        ]
    if isinstance(value, list):
        return [found for item in value for found in _json_scores(item)]
    return []


def shown_scores(response, body: str) -> str:
    """Only what the page shows as scores, one cell a line: never a number that happens to
    stand in a timestamp, a token or an id (a substring of the whole page would match
    "3.83" in "…:33.831…" at some instants). For the CSV export: its "Score" column."""
    if response.get("Content-Type", "").startswith("application/json"):
        return "\n".join(_json_scores(json.loads(body or "null")))
    if response.get("Content-Type", "").startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(body)))
        if not rows or "Score" not in rows[0]:
            return ""
        column = rows[0].index("Score")
        return "\n".join(row[column] for row in rows[1:] if len(row) > column)
    parser = _ScoreCells()
    parser.feed(body)
    return "\n".join(" ".join(cell.split()) for cell in parser.cells)


def leaks(role: str, response, setting: str, phase: str) -> list[str]:
    """The hidden texts that ``response`` shows to ``role``."""
    body = body_of(response)
    forbidden: list[str] = []
    # Reviewers' identities: never to applicants; reviewers never see each other's names.
    if role in APPLICANTS:
        forbidden += [text for pair in IDENTITY.values() for text in pair]
    if role in REVIEWERS:
        forbidden += [text for who, pair in IDENTITY.items() if who != role for text in pair]
    # Confidential comments: the committee and the managers only (and their own author).
    if role not in READ_ALL:
        forbidden += [text for who, text in CONFIDENTIAL.items() if who != role]
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
    found = {text for text in forbidden if text in body}
    # Scores: never to applicants before publication; the other applicant never sees P's.
    if role in TEAM and phase != "published" or role == "applicant":
        scores = shown_scores(response, body)
        found |= {text for text in P_SCORES if text in scores}
    return sorted(found)


def answer(client: Client, user: User | None, url: str):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize("role", ROLES)
def test_nobody_sees_what_section_1_1_hides(client, world, role):
    problems = []
    for page in PAGES:
        url = world.urls[page]
        response = answer(client, world.people[role], url)
        status: int | str = response.status_code
        if role == "anonymous" and status == 302:
            login = f"{reverse('account_login')}?next={url}"
            status = "login" if response["Location"] == login else response["Location"]
        wanted = expected_status(role, page, world.setting, world.phase)
        if status != wanted:
            problems.append(f"{page}: {status}, expected {wanted}")
        found = leaks(role, response, world.setting, world.phase)
        if found:
            problems.append(f"{page} ({status}) shows {found}")
        if page == "proposal_detail" and status == 200:
            problems += sidebar_problems(role, body_of(response), world)
    assert problems == []


def sidebar_problems(role: str, body: str, world: World) -> list[str]:
    """The proposal's sidebar links to its reviews and its right of reply exactly for those
    whom these pages let in."""
    problems = []
    for page in ("proposal_reviews", "proposal_reply"):
        linked = f'href="{world.urls[page]}"' in body
        if linked != (expected_status(role, page, world.setting, world.phase) == 200):
            problems.append(f"proposal_detail: link to {page} {linked}")
    return problems


def test_shown_scores_reads_only_the_elements_that_show_a_score():
    page = (
        '<p>Submitted 28 Feb 2027, 23:59:33.831 UTC</p><input value="x:3.83:y">'
        "<dl class=facts><dt>Score</dt><dd>3.33</dd><dt>Spread</dt><dd>1.00</dd></dl>"
        '<table class="review-scores"><tr><th>Weighted score</th><td><b>4.33</b></td></tr>'
        '</table><table><tr><td data-label="Score">2.50 <span>(below)</span></td>'
        '<td data-label="Field">3.83</td></tr></table>'
    )
    html = Client().get("/healthz")  # any response with an HTML-less content type
    html["Content-Type"] = "text/html"
    assert shown_scores(html, page) == "3.33\nWeighted score 4.33\n2.50 (below)"


@pytest.mark.parametrize("world", [(ReviewVisibility.AFTER_OWN, "reply_open")], indirect=True)
def test_the_committee_and_the_managers_do_see_it_all(client, world):
    """The markers are real: where they may appear, they do (a guard on the test above)."""
    for role in ("committee", "manager"):
        response = answer(client, world.people[role], world.urls["proposal_reviews"])
        reviews = body_of(response)
        for text in [
            *CONFIDENTIAL.values(),
            *P_COMMENTS.values(),
            P_REPLY,
            "Rita Reviewer",
            "zora@review.example",
            "Tess Technicalreviewer",
        ]:
            assert text in reviews, (role, text)
        assert shown_scores(response, reviews).split("\n") == [
            "3.83",
            "Scores of Zora Secondreviewer Criterion Score Scientific excellence 4 (of 0–5) "
            "Feasibility 2 (of 0–5) Weighted score 3.33",
            "Scores of Rita Reviewer Criterion Score Scientific excellence 5 (of 0–5) "
            "Feasibility 3 (of 0–5) Weighted score 4.33",
        ], role
        for page in ("call_ranking", "call_ranking_csv"):
            response = answer(client, world.people[role], world.urls[page])
            body = body_of(response)
            assert P_REFERENCE in body and P_TITLE in body, (role, page)
            assert "3.83" in shown_scores(response, body).split("\n"), (role, page)
    pi, reviewer = world.people["pi"], world.people["assigned_reviewer"]
    team = body_of(answer(client, pi, world.urls["proposal_reviews"]))
    assert P_COMMENTS["zora"] in team and P_REPLY in team
    rita = body_of(answer(client, reviewer, world.urls["proposal_reviews"]))
    assert P_COMMENTS["zora"] in rita and CONFIDENTIAL["assigned_reviewer"] in rita
    carla = body_of(
        answer(client, world.people["conflicted_committee"], world.urls["call_ranking"])
    )
    assert Q_TITLE in carla


@pytest.mark.parametrize("world", [(ReviewVisibility.NEVER, "published")], indirect=True)
def test_after_publication_the_team_sees_the_scores(client, world):
    for role in ("pi", "coi"):
        response = answer(client, world.people[role], world.urls["proposal_reviews"])
        scores = shown_scores(response, body_of(response))
        for text in ["Weighted score 4.33", "Weighted score 3.33", "(of 0–5)"]:
            assert text in scores, (role, text)


@pytest.mark.parametrize("world", [(ReviewVisibility.ALWAYS, "reply_open")], indirect=True)
def test_a_review_taken_back_is_no_longer_shown_to_applicants(client, world):
    """A removed assignment is not a review: nothing of it reaches anyone but managers."""
    manager, reviewer = world.people["manager"], world.people["assigned_reviewer"]
    review = world.proposal.reviews.get(reviewer=reviewer)
    review_reopen(review=review, by=manager)
    review_remove(review=review, by=manager)
    body = body_of(answer(client, world.people["pi"], world.urls["proposal_reviews"]))
    assert P_COMMENTS["assigned_reviewer"] not in body
    assert P_COMMENTS["zora"] in body
