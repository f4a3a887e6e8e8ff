"""The reviewers an applicant asks to exclude, names and reasons, are read by call managers and
the proposal's own team only: never by its reviewers or the committee (PRODUCT §1.1)."""

import pytest
from django.urls import reverse

from proposals.calls.enums import CallRoleKind
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.reviewing_factories import assign, submitted_proposal

NAME = "Dr. Ramona Rivalsson"
REASON = "leads the competing consortium"
EXCLUSIONS = f"{NAME}: {REASON}"


@pytest.fixture
def proposal(db, pi, reviewer, committee):
    call = make_call()
    proposal = submitted_proposal(call, pi, acronym="SPARSE-MOE", excluded_reviewers=EXCLUSIONS)
    assign(proposal, reviewer)
    add_call_role(call, committee, CallRoleKind.COMMITTEE)
    return proposal


def pages(proposal) -> dict[str, str]:
    return {
        "general": reverse("proposal_edit", args=[proposal.pk, "general"]),
        "version": reverse("proposal_version", args=[proposal.pk, 1]),
    }


@pytest.mark.parametrize("page", ["general", "version"])
@pytest.mark.parametrize("persona", ["reviewer", "committee"])
def test_reviewers_and_committee_read_the_proposal_without_the_exclusions(
    client, request, proposal, page, persona
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(pages(proposal)[page])
    body = response.content.decode()
    assert response.status_code == 200
    assert proposal.title in body
    assert NAME not in body
    assert REASON not in body
    assert "Reviewers to exclude" not in body and "reviewers to exclude" not in body


@pytest.mark.parametrize("page", ["general", "version"])
@pytest.mark.parametrize("persona", ["manager", "pi"])
def test_managers_and_the_team_read_the_exclusions(client, request, proposal, page, persona):
    client.force_login(request.getfixturevalue(persona))
    body = client.get(pages(proposal)[page]).content.decode()
    assert NAME in body
    assert REASON in body
