"""PRODUCT §1.1 on every URL (issue 11, "Done when"): every pattern of the URL conf is walked
by every persona — anonymous, an applicant of another team, a reviewer not assigned, a
conflicted reviewer, a committee member, a call manager who has not passed the second factor
and one who has — and what §1.1 hides is planted and looked for on every answer.

The routes come from the URL conf (``tests.url_walk``): a new URL is walked without anyone
adding it here, and a route the walk cannot fill (a parameter no value is given for) fails
``test_every_pattern_is_walked`` until it is given values or listed in NOT_WALKED with why.
The world is built once and walked in one test, so the module stays quick.
"""

import re

import pytest
from django.test import Client
from django.urls import get_resolver, resolve

from allocations.models import AllocationMember, AllocationRequest
from allocations.services.requests import allocation_request_create
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import CallRole
from proposals.review.models import Conflict, Review
from proposals.review.services.conflicts import conflict_declare
from proposals.submission.models import Attachment, TeamMember
from proposals.submission.services.lifecycle import proposal_submit
from proposals.submission.services.team import team_invite
from proposals.submission.views.editing import EDITORS
from tests.allocation_factories import make_allocation
from tests.conftest import force_login_without_second_factor, make_manager, make_user
from tests.factories import make_call
from tests.hostile import invited_review
from tests.proposal_factories import add_call_role, complete_proposal
from tests.proposals.test_ranking import in_review, scientific
from tests.url_walk import PARAMETER, _routes, app_urls

pytestmark = pytest.mark.django_db

CONFIDENTIAL = "CONFIDENTIAL-TO-THE-COMMITTEE-8311"
REVIEWER_NAME = "Zebulon Quaxworth"
EXCLUDED = "EXCLUDE-REASON-5521 former co-author of the PI"
TITLE = "TEAM-A-TITLE-4471 sparse experts at scale"

# Who may read each planted string (§1.1). The applicant persona is of another team; the two
# reviewers are not assigned to team A's proposal (one is in conflict with it).
ALLOWED = {
    CONFIDENTIAL: {"committee", "manager"},
    REVIEWER_NAME: {"committee", "manager"},
    EXCLUDED: {"manager"},
    TITLE: {"committee", "manager"},
    # the invitation's token: its recipient only, who is none of the personas
}
# Found by this walk and fixed on another branch of issue 11 (point 6: the reviewers to exclude
# shown to the committee on the read-only general section and the versions page). Empty this
# once that branch is merged; nothing may be added to it.
# Leaks found and not fixed yet, each with its page (none since the exclusions became the
# managers' alone, issue 11 point 6).
KNOWN_LEAKS: set[tuple[str, str, str]] = set()
PERSONAS = (
    "anonymous",
    "applicant",
    "unassigned_reviewer",
    "conflicted_reviewer",
    "committee",
    "manager_without_second_factor",
    "manager",
)
# Routes the walk does not fill, with why; everything else must be walked.
NOT_WALKED = {
    "admin/": "the Django admin: walked as a superuser by tests/notifications/test_secret_emails",
    "accounts/^confirm-email/": "allauth's emailed key: test_secret_emails follows each link",
    "accounts/^password/reset/key/": "allauth's emailed key: test_secret_emails follows it",
    "accounts/oidc/^": "an OpenID Connect provider's id: no provider is configured here",
    "api/v1/": "the JSON API: tests/api/test_visibility walks every endpoint as every persona",
}


def _not_walked(route: str) -> bool:
    return route.startswith(tuple(NOT_WALKED))


def build_world() -> dict:
    """Team A's proposal with everything §1.1 hides; team B's proposal in the same call; the
    people around them; an allocation with a member and a request."""
    call = make_call()
    pi_a = make_user("pi-a@team-a.example", full_name="Ada Alpha", affiliation="Team A Uni")
    alpha = complete_proposal(
        call,
        pi_a,
        acronym="ALPHA",
        title=TITLE,
        excluded_reviewers=EXCLUDED,
        pi_affiliation="Team A Uni",
    )
    invitation = team_invite(proposal=alpha, by=pi_a, email="invitee@team-a.example")
    proposal_submit(proposal=alpha, by=pi_a)
    applicant = make_user("pi-b@team-b.example", full_name="Bert Bravo", affiliation="Team B Uni")
    bravo = complete_proposal(
        call, applicant, acronym="BRAVO", title="Team B's own title", pi_affiliation="Team B Uni"
    )
    proposal_submit(proposal=bravo, by=applicant)
    in_review(call)

    writer = make_user("zq@review.example", full_name=REVIEWER_NAME, affiliation="Review Inst")
    add_call_role(call, writer, CallRoleKind.REVIEWER)
    scientific(alpha, writer, 4, 3, comment="Sound plan.", confidential=CONFIDENTIAL)
    unassigned = make_user("un@review.example", full_name="Una Unassigned", affiliation="U Inst")
    add_call_role(call, unassigned, CallRoleKind.REVIEWER)
    conflicted = make_user("co@review.example", full_name="Cora Conflicted", affiliation="C Inst")
    invited_review(alpha, conflicted)
    conflict_declare(proposal=alpha, reviewer=conflicted, detail="I supervise the PI.")
    committee = make_user("cm@board.example", full_name="Cyril Committee", affiliation="Board")
    add_call_role(call, committee, CallRoleKind.COMMITTEE)

    manager = make_manager()
    allocation = make_allocation(pi=pi_a, members=[make_user("member@team-a.example")])
    allocation_request_create(
        allocation=allocation,
        by=pi_a,
        kind="extension",
        reason="Downtime.",
        new_end=allocation.end.replace(year=allocation.end.year + 1),
    )
    return {
        "token": invitation.token,
        "alpha": alpha.pk,
        "people": {
            "applicant": applicant,
            "unassigned_reviewer": unassigned,
            "conflicted_reviewer": conflicted,
            "committee": committee,
            "manager": manager,
        },
        "values": {
            "pk": {
                call.pk,
                alpha.pk,
                bravo.pk,
                allocation.pk,
                allocation.proposal.call_id,
                allocation.proposal_id,
            },
            "proposal_pk": {alpha.pk, bravo.pk},
            "review_pk": set(Review.objects.values_list("pk", flat=True)),
            "member_pk": set(TeamMember.objects.values_list("pk", flat=True))
            | set(AllocationMember.objects.values_list("pk", flat=True)),
            "role_pk": set(CallRole.objects.values_list("pk", flat=True)),
            "conflict_pk": set(Conflict.objects.values_list("pk", flat=True)),
            "attachment_pk": set(Attachment.objects.values_list("pk", flat=True)),
            "request_pk": set(AllocationRequest.objects.values_list("pk", flat=True)),
            "message_id": {1},
            "number": {1},
            "section": set(EDITORS),
            "token": {invitation.token},
        },
    }


def clients(world) -> dict[str, Client]:
    people = world["people"]
    signed = {"anonymous": Client()}
    for name in ("applicant", "unassigned_reviewer", "conflicted_reviewer", "committee", "manager"):
        signed[name] = Client()
        signed[name].force_login(people[name])
    halfway = Client()
    force_login_without_second_factor(halfway, people["manager"])
    signed["manager_without_second_factor"] = halfway
    return signed


def text_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_nothing_hidden_by_the_rules_shows_to_a_persona_on_any_page():
    world = build_world()
    urls = app_urls(values=world["values"], skip_prefixes=tuple(NOT_WALKED))
    secrets = {**ALLOWED, world["token"]: set()}
    found: set[tuple[str, str, str]] = set()
    seen: set[tuple[str, str]] = set()
    answered = 0

    for persona, client in clients(world).items():
        for url in urls:
            response = client.get(url)
            answered += 1
            assert response.status_code < 500, (persona, url)
            text = text_of(response)
            for secret, readers in secrets.items():
                if secret not in text:
                    continue
                seen.add((persona, secret))
                if persona in readers:
                    continue
                if url.startswith("/invitations/"):
                    # The secret link itself: who opens it is its recipient (§1.1), who is
                    # shown what they are invited to join.
                    continue
                found.add((persona, url, secret))

    alpha = world["alpha"]
    known = {(p, url.format(alpha=alpha), secret) for p, url, secret in KNOWN_LEAKS}
    leaks = found - known
    assert sorted(leaks) == [], "\n".join(map(str, sorted(leaks)))
    assert answered == len(PERSONAS) * len(urls)
    # Each planted string is shown to those who may read it: else this walk proves nothing.
    assert {(p, secret) for secret, readers in ALLOWED.items() for p in readers} <= seen


def test_every_pattern_is_walked():
    """A route the walk gives no values to is not checked by it: add its parameter's values
    to ``build_world`` (or, for what cannot be walked, a line to NOT_WALKED saying why)."""
    world_values = {
        name: [1]
        for route in _routes(get_resolver().url_patterns)
        for name in (m["name"] for m in PARAMETER.finditer(route))
    }
    expected = {route for route in _routes(get_resolver().url_patterns) if not _not_walked(route)}
    walked = {
        _route_of(url) for url in app_urls(values=world_values, skip_prefixes=tuple(NOT_WALKED))
    }
    assert expected - walked == set()
    names = {m["name"] for route in expected for m in PARAMETER.finditer(route)}
    assert names <= set(build_world_parameter_names())


def _route_of(url: str) -> str:
    match = resolve(url)
    return re.sub(r"^/", "", match.route)


def build_world_parameter_names() -> set[str]:
    return {
        "pk",
        "proposal_pk",
        "review_pk",
        "member_pk",
        "role_pk",
        "conflict_pk",
        "attachment_pk",
        "request_pk",
        "message_id",
        "number",
        "section",
        "token",
    }
