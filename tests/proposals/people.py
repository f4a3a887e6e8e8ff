"""Everyone around one proposal, for the permission tests of the team and attachment pages.

``cast(...)`` builds a draft to an open call with an accepted co-investigator, an invited one
who has not answered, another applicant with their own proposal to the same call, a reviewer
and a committee member of the call, and a call manager.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import Call
from proposals.calls.services import call_role_add
from proposals.submission.enums import TeamStatus
from proposals.submission.models import Proposal
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal

ROLES = (
    "pi",
    "coi",
    "invited",
    "applicant",
    "reviewer",
    "committee",
    "manager",
    "anonymous",
)


@dataclass
class Cast:
    call: Call
    proposal: Proposal
    other_proposal: Proposal
    people: dict[str, User | None]


def cast(*, pi, coi, outsider, reviewer, committee, manager, call: Call | None = None) -> Cast:
    call = call or make_call()
    proposal = make_proposal(
        call, pi, title="Scaling laws of sparse language models", acronym="SPARSE"
    )
    add_member(proposal, coi)
    invited = make_user("invited@lab.example", full_name="Ines Invited")
    add_member(proposal, invited, status=TeamStatus.INVITED)
    other = make_proposal(call, outsider, title="Another applicant's proposal", acronym="OTHER")
    call_role_add(call=call, email=reviewer.email, role=CallRoleKind.REVIEWER, by=manager)
    call_role_add(call=call, email=committee.email, role=CallRoleKind.COMMITTEE, by=manager)
    people = {
        "pi": pi,
        "coi": coi,
        "invited": invited,
        "applicant": outsider,
        "reviewer": reviewer,
        "committee": committee,
        "manager": manager,
        "anonymous": None,
    }
    return Cast(call=call, proposal=proposal, other_proposal=other, people=people)


def answers(
    client: Client, people: dict, method: str, url: str, data=None, *, roles=ROLES
) -> dict[str, object]:
    """Each role's status code; for the anonymous visitor, where they are sent instead."""
    result: dict[str, object] = {}
    for role in roles:
        client.logout()
        if people[role] is not None:
            client.force_login(people[role])
        response = getattr(client, method)(url, data or {})
        if role == "anonymous" and response.status_code == 302:
            result[role] = response["Location"]
        else:
            result[role] = response.status_code
    client.logout()
    return result


def login_url(path: str) -> str:
    return f"{reverse('account_login')}?next={path}"


def close_call(call: Call) -> None:
    """Move the deadline one second into the past: drafts freeze."""
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    call.refresh_from_db()
