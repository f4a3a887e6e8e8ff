"""The scientific review form (PRODUCT §5.2): what it shows, saving a draft, bad input, two
tabs at once, and who may open and post it (PRODUCT §1.1)."""

import html
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from proposals.calls.enums import CallRoleKind
from proposals.review.enums import ReviewState
from proposals.review.models import Review
from proposals.review.services.reviewing import ReviewEditConflict, review_save
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role
from tests.proposals.helpers import login_url_for
from tests.proposals.reviewing_factories import (
    accepted,
    assign,
    criteria_ids,
    scientific_post,
    scores_of,
    signed_in,
    submitted_proposal,
)


@pytest.fixture
def call(db):
    call = make_call()
    call.criteria.filter(name="Scientific excellence").update(
        description="Originality and importance of the research questions."
    )
    return call


@pytest.fixture
def proposal(call, pi):
    return submitted_proposal(call, pi)


@pytest.fixture
def review(proposal, reviewer) -> Review:
    return accepted(proposal, reviewer)


def url(review: Review) -> str:
    return reverse("review_edit", args=[review.pk])


def saved(review: Review) -> tuple:
    review.refresh_from_db()
    return (
        review.state,
        review.lock_version,
        scores_of(review),
        review.comment_to_applicant,
        review.confidential_comment,
        review.recommendation,
    )


NOTHING_SAVED = (ReviewState.ACCEPTED, 2, {}, "", "", "")


# --- The form --------------------------------------------------------------------------------


def test_each_criterion_is_a_group_of_radio_buttons_on_its_scale(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)

    page = html.unescape(signed_in(reviewer).get(url(review)).content.decode())

    for criterion_id, name in ((excellence, "Scientific excellence"), (feasibility, "Feasibility")):
        fieldset = re.search(
            rf'<fieldset class="field radio-group" id="id_score-{criterion_id}".*?</fieldset>',
            page,
            re.S,
        )
        assert fieldset, name
        group = fieldset[0]
        assert f"<legend>{name}</legend>" in group
        assert re.findall(r'<input type="radio" name="score-\d+" value="(\d)"', group) == [
            "0",
            "1",
            "2",
            "3",
            "4",
            "5",
        ]
        assert f'<label class="checkbox" for="id_score-{criterion_id}_0">' in group
        assert "0 (lowest)" in group
        assert "5 (highest)" in group
    assert "Weight 2" in page
    assert "Weight 1" in page
    assert "Originality and importance of the research questions." in page


def test_the_comments_explain_who_reads_them(review, reviewer):
    page = html.unescape(signed_in(reviewer).get(url(review)).content.decode())

    assert '<label for="id_comment_to_applicant">Comment to the applicant</label>' in page
    assert (
        "Required to submit. The applicant will read this; do not sign it or write anything "
        "that reveals who you are." in page
    )
    assert (
        '<label for="id_confidential_comment">Confidential comment to the committee</label>' in page
    )
    assert "never shown to the applicant" in page
    assert "<legend>Your recommendation</legend>" in page
    assert re.findall(r'name="recommendation" value="(\w+)"', page) == [
        "fund",
        "fund_reduced",
        "do_not_fund",
    ]
    assert ">Save draft</button>" in page
    assert ">Submit review</button>" in page
    # the proposal as submitted, to read beside the form
    assert f'href="{reverse("proposal_version", args=[review.proposal_id, 1])}"' in page


# --- Saving a draft --------------------------------------------------------------------------


def test_save_draft_writes_exactly_what_was_sent(review, reviewer):
    response = signed_in(reviewer).post(url(review), scientific_post(review))

    assert response.status_code == 302
    assert response["Location"] == url(review)
    assert saved(review) == (
        ReviewState.ACCEPTED,
        3,
        {"Scientific excellence": 4, "Feasibility": 3},
        "A clear plan; the scaling runs are convincing.",
        "Strong team, but the request is generous.",
        "fund_reduced",
    )
    assert review.saved_at is not None
    assert Review.objects.get(pk=review.pk).scores.count() == 2


def test_a_draft_may_be_incomplete(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)
    data = scientific_post(
        review,
        comment_to_applicant="",
        recommendation=None,
        **{f"score-{feasibility}": None},
    )

    signed_in(reviewer).post(url(review), data)

    assert saved(review) == (
        ReviewState.ACCEPTED,
        3,
        {"Scientific excellence": 4},
        "",
        "Strong team, but the request is generous.",
        "",
    )


def test_saving_again_changes_the_scores_and_keeps_one_row_each(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)
    client = signed_in(reviewer)
    client.post(url(review), scientific_post(review))
    review.refresh_from_db()

    client.post(url(review), scientific_post(review, **{f"score-{excellence}": "5"}))

    assert saved(review)[2] == {"Scientific excellence": 5, "Feasibility": 3}
    assert review.scores.count() == 2


def test_the_saved_draft_fills_the_form(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)
    review_save(
        review=review,
        by=reviewer,
        expected_version=review.lock_version,
        data={"comment_to_applicant": "Kept <b>exactly</b>.", "recommendation": "fund"},
        scores={excellence: 2},
    )

    page = signed_in(reviewer).get(url(review)).content.decode()

    assert f'value="2" id="id_score-{excellence}_2" checked' in page
    assert "checked" not in re.search(
        rf'<fieldset class="field radio-group" id="id_score-{feasibility}".*?</fieldset>',
        page,
        re.S,
    )[0].replace("unchecked", "")
    assert "Kept &lt;b&gt;exactly&lt;/b&gt;." in page
    assert 'value="fund" id="id_recommendation_0" checked' in page


# --- Bad input ------------------------------------------------------------------------------


def test_a_score_off_the_scale_is_refused_beside_it_and_everything_typed_is_kept(
    review, reviewer, call
):
    excellence, _ = criteria_ids(call)
    data = scientific_post(review, **{f"score-{excellence}": "9"})

    response = signed_in(reviewer).post(url(review), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing has been saved." in page
    assert re.search(
        rf'<fieldset class="field radio-group field-invalid" id="id_score-{excellence}"[^>]*'
        rf'aria-describedby="[^"]*id_score-{excellence}_error"',
        page,
    )
    assert "Select a valid choice. 9 is not one of the available choices." in page
    assert "A clear plan; the scaling runs are convincing." in page
    assert "Strong team, but the request is generous." in page
    assert 'value="fund_reduced" id="id_recommendation_1" checked' in page
    assert saved(review) == NOTHING_SAVED


def test_the_service_refuses_a_score_off_the_scale(review, reviewer, call):
    excellence, feasibility = criteria_ids(call)

    with pytest.raises(ValidationError) as refused:
        review_save(
            review=review,
            by=reviewer,
            expected_version=2,
            data={},
            scores={excellence: 6, feasibility: 3},
        )

    assert refused.value.message_dict == {f"score-{excellence}": ["Choose a score from 0 to 5."]}
    assert saved(review) == NOTHING_SAVED


def test_a_missing_version_is_a_form_error_not_a_crash(review, reviewer):
    data = scientific_post(review)
    del data["lock_version"]

    response = signed_in(reviewer).post(url(review), data)

    assert response.status_code == 200
    assert saved(review) == NOTHING_SAVED


# --- Two tabs --------------------------------------------------------------------------------


def test_a_save_from_an_older_tab_is_refused_with_a_message_and_keeps_what_was_typed(
    review, reviewer, call
):
    excellence, _ = criteria_ids(call)
    client = signed_in(reviewer)
    first_tab = scientific_post(review, comment_to_applicant="From the first tab.")
    second_tab = scientific_post(
        review, comment_to_applicant="From the second tab.", **{f"score-{excellence}": "1"}
    )
    client.post(url(review), first_tab)

    response = client.post(url(review), second_tab)

    assert response.status_code == 409
    page = html.unescape(response.content.decode())
    assert "This review changed while you were editing it" in page
    assert "Your changes have NOT been saved." in page
    assert "From the second tab." in page
    assert "<dt>Comment to the applicant</dt><dd>From the first tab.</dd>" in page
    assert "<dt>Scientific excellence</dt><dd>4</dd>" in page
    assert saved(review)[1:4] == (
        3,
        {"Scientific excellence": 4, "Feasibility": 3},
        "From the first tab.",
    )
    # The page now carries the current version: saving again on purpose goes through.
    assert 'name="lock_version" value="3"' in page
    again = client.post(url(review), {**second_tab, "lock_version": "3"})
    assert again.status_code == 302
    assert saved(review)[1:4] == (
        4,
        {"Scientific excellence": 1, "Feasibility": 3},
        "From the second tab.",
    )


def test_the_service_refuses_an_older_version_and_writes_nothing(review, reviewer):
    with pytest.raises(ReviewEditConflict) as refused:
        review_save(
            review=review, by=reviewer, expected_version=1, data={"comment_to_applicant": "x"}
        )

    assert refused.value.review.lock_version == 2
    assert saved(review) == NOTHING_SAVED


# --- Who may open and post it ----------------------------------------------------------------


def test_who_may_open_the_review_form(client, review, reviewer, pi, committee, manager, call):
    other_reviewer = make_user("other@inst.example")
    accepted(review.proposal, other_reviewer)
    add_call_role(call, committee, CallRoleKind.COMMITTEE)

    own = signed_in(reviewer).get(url(review))
    assert own.status_code == 200
    assert ">Submit review</button>" in own.content.decode()
    assert signed_in(other_reviewer).get(url(review)).status_code == 404
    assert signed_in(pi).get(url(review)).status_code == 404
    assert signed_in(committee).get(url(review)).status_code == 404
    # Call managers read a review in progress, read-only.
    managers = signed_in(manager).get(url(review))
    assert managers.status_code == 200
    page = managers.content.decode()
    assert 'class="review-form"' not in page
    assert "Not submitted yet: this is the reviewer's latest draft, read-only." in page
    assert "Rita Reviewer" in page
    response = client.get(url(review))
    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(review))


def test_who_may_post_the_review_form(client, review, reviewer, pi, committee, manager, call):
    other_reviewer = make_user("other@inst.example")
    accepted(review.proposal, other_reviewer)
    add_call_role(call, committee, CallRoleKind.COMMITTEE)
    data = scientific_post(review)

    assert signed_in(other_reviewer).post(url(review), data).status_code == 404
    assert signed_in(pi).post(url(review), data).status_code == 404
    assert signed_in(committee).post(url(review), data).status_code == 404
    assert signed_in(manager).post(url(review), data).status_code == 403
    assert client.post(url(review), data).status_code == 302
    assert saved(review) == NOTHING_SAVED
    with pytest.raises(PermissionDenied):
        review_save(review=review, by=manager, expected_version=2, data={})


def test_wrong_methods_are_not_allowed(review, reviewer):
    client = signed_in(reviewer)

    assert client.put(url(review)).status_code == 405
    assert client.delete(url(review)).status_code == 405


def test_an_invitation_not_yet_accepted_leads_to_the_invitation(proposal, reviewer):
    review = assign(proposal, make_user("invited@inst.example"))
    invitee = review.reviewer

    response = signed_in(invitee).get(url(review))

    assert response.status_code == 302
    assert response["Location"] == reverse("review_detail", args=[review.pk])
    with pytest.raises(ValidationError) as refused:
        review_save(review=review, by=invitee, expected_version=1, data={})
    assert refused.value.messages == ["Accept the invitation first; then you can write the review."]


def test_the_form_links_the_submitted_version_and_the_description_beside_it(
    client, review, proposal, reviewer
):
    """A reviewer reads the proposal as submitted (a readable page, not a disabled form) and
    its project description, from the review form (issue 14, point 6)."""
    client.force_login(reviewer)
    page = client.get(url(review)).content.decode()
    description = proposal.attachments.get(kind="description", replaced_at__isnull=True)

    version = reverse("proposal_version", args=[proposal.pk, 1])
    assert f'<a href="{version}" id="read-proposal">Read the proposal</a>' in page
    download = reverse("attachment_download", args=[proposal.pk, description.pk])
    assert f'<a href="{download}" id="read-description">Project description (PDF)</a>' in page
    # and the reviewer may open both
    assert proposal.title in client.get(version).content.decode()
    assert client.get(download)["Content-Type"] == "application/pdf"
