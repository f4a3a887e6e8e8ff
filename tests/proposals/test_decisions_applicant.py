"""The decision page of a proposal (PRODUCT §6, §1.1): its team sees nothing of the decision
before the call's decisions are published, and everything after; managers and the committee
see it as saved; everyone else is kept out.
"""

import pytest
from django.urls import reverse

from allocations.services.publishing import decisions_publish
from proposals.review.enums import ConflictStatus
from proposals.submission.enums import TeamStatus
from tests.conftest import make_user
from tests.proposal_factories import add_member
from tests.proposals.decisions_factories import decide_all, on_committee, worked_example
from tests.proposals.helpers import login_url_for
from tests.proposals.reviewing_factories import assign
from tests.proposals.test_ranking import conflict, page_text

pytestmark = pytest.mark.django_db

MESSAGE = "Congratulations: a strong proposal."
# What the team must not see before publication: the outcome, the amount, the message, the
# answer buttons and the reviewers' comments.
SECRETS = [
    "The committee's decision",
    "Awarded",
    "400,000 GPU-hours",
    MESSAGE,
    "Accept the award",
    "Comment to the applicant of ALPHA.",
]


@pytest.fixture
def example(db, pi, coi, manager):
    example = worked_example(pi=pi, coi=coi)
    decide_all(example, manager)
    return example


def url(proposal) -> str:
    return reverse("decision_detail", args=[proposal.pk])


def test_before_publication_the_team_is_told_it_is_not_published(client, example, pi, coi):
    for person in (pi, coi):
        client.force_login(person)
        response = client.get(url(example["ALPHA"]))

        assert response.status_code == 200
        text = page_text(response)
        assert "The decision has not been published yet." in text
        for secret in SECRETS:
            assert secret not in text, secret


def test_after_publication_the_pi_sees_everything_and_may_answer(client, example, pi, manager):
    decisions_publish(call=example.call, by=manager)
    client.force_login(pi)

    response = client.get(url(example["ALPHA"]))

    assert response.status_code == 200
    text = page_text(response)
    assert "The decision has not been published yet." not in text
    assert "The committee's decision Decision Awarded Published" in text
    assert "Resource Awarded JUPITER Booster 400,000 GPU-hours" in text
    assert f"Message from the committee {MESSAGE}" in text
    assert "Accept the award" in text
    assert "Yes, decline the award" in text
    html = response.content.decode()
    assert f'href="{reverse("proposal_reviews", args=[example["ALPHA"].pk])}"' in html
    assert f'action="{reverse("decision_respond", args=[example["ALPHA"].pk])}"' in html


def test_after_publication_a_co_investigator_sees_it_but_does_not_answer(
    client, example, coi, manager
):
    decisions_publish(call=example.call, by=manager)
    client.force_login(coi)

    text = page_text(client.get(url(example["ALPHA"])))

    assert "Resource Awarded JUPITER Booster 400,000 GPU-hours" in text
    assert MESSAGE in text
    assert "Accept the award" not in text
    assert (
        "Waiting for the principal investigator, Paula Investigator, to accept or decline the "
        "award." in text
    )


def test_the_reviews_are_shared_with_the_team_after_publication(client, example, pi, manager):
    decisions_publish(call=example.call, by=manager)
    client.force_login(pi)

    text = page_text(client.get(reverse("proposal_reviews", args=[example["ALPHA"].pk])))

    assert "Comment to the applicant of ALPHA." in text
    assert "Confidential note on ALPHA." not in text
    assert "Rita Reviewer" not in text


def test_a_rejected_proposal_shows_no_amount_and_no_answer(client, example, manager):
    decisions_publish(call=example.call, by=manager)
    client.force_login(example["FOXTROT"].pi)

    text = page_text(client.get(url(example["FOXTROT"])))

    assert "The committee's decision Decision Rejected" in text
    assert "GPU-hours" not in text
    assert "Accepting the award" not in text


def test_the_sidebar_links_to_the_decision_only_once_published(client, example, pi, manager):
    client.force_login(pi)
    link = f'href="{url(example["ALPHA"])}"'
    assert (
        link
        not in client.get(reverse("proposal_detail", args=[example["ALPHA"].pk])).content.decode()
    )

    decisions_publish(call=example.call, by=manager)

    assert (
        link in client.get(reverse("proposal_detail", args=[example["ALPHA"].pk])).content.decode()
    )


def test_managers_and_the_committee_see_the_saved_decision_marked_unpublished(
    client, example, manager, committee
):
    on_committee(example.call, committee)
    for person in (manager, committee):
        client.force_login(person)
        text = page_text(client.get(url(example["ALPHA"])))

        assert "Not published: the proposal's team does not see this decision yet." in text
        assert "Decision Awarded" in text
        assert MESSAGE in text
        assert "Accept the award" not in text


def test_who_may_open_the_decision_page(client, example, manager, committee, reviewer, outsider):
    proposal = example["ALPHA"]
    on_committee(example.call, committee)
    conflicted = make_user("conflicted@board.example")
    on_committee(example.call, conflicted)
    conflict(proposal, conflicted, ConflictStatus.CONFIRMED)
    assign(proposal, reviewer)
    invited = make_user("invited@lab.example")
    add_member(proposal, invited, status=TeamStatus.INVITED)

    def status(person) -> object:
        client.logout()
        if person is not None:
            client.force_login(person)
        response = client.get(url(proposal))
        return response["Location"] if response.status_code == 302 else response.status_code

    assert {
        "manager": status(manager),
        "committee": status(committee),
        "conflicted committee member": status(conflicted),
        "assigned reviewer": status(reviewer),
        "invited, not accepted": status(invited),
        "another applicant": status(example["BRAVO"].pi),
        "outsider": status(outsider),
        "anonymous": status(None),
    } == {
        "manager": 200,
        "committee": 200,
        "conflicted committee member": 404,
        "assigned reviewer": 403,
        "invited, not accepted": 404,
        "another applicant": 404,
        "outsider": 404,
        "anonymous": login_url_for(url(proposal)),
    }


def test_an_unknown_proposal_is_404_and_posting_is_405(client, example, pi):
    client.force_login(pi)

    assert client.get(reverse("decision_detail", args=[999])).status_code == 404
    assert client.post(url(example["ALPHA"])).status_code == 405
