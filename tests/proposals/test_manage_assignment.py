"""The managers' assignment pages: the call's assignments, the suggestion's preview, applying
it through a signed field, assigning and removing by hand."""

import html
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import CallRole
from proposals.review.enums import ConflictReason, ConflictStatus, ReviewKind, ReviewState
from proposals.review.models import Conflict, Review
from proposals.review.services.assignment import review_assign
from proposals.review.views.assignment import SUGGESTION_SALT
from proposals.submission.services.lifecycle import proposal_submit
from tests.conftest import make_user
from tests.proposal_factories import add_call_role, complete_proposal, make_call_closing
from tests.proposals.helpers import assert_guarded, login_url_for, second_factor_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    return make_call_closing(reviewers_per_proposal=2)


def submitted(call, acronym: str, *, field: str = "PE6", keywords=("mixture of experts",)):
    pi = make_user(f"pi-{acronym.lower()}@uni.example", affiliation=f"University of {acronym}")
    proposal = complete_proposal(call, pi, acronym=acronym, field=field, keywords=list(keywords))
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


def invite(proposal, reviewer, manager, state=ReviewState.INVITED) -> Review:
    review = review_assign(
        proposal=proposal, reviewer=reviewer, kind=ReviewKind.SCIENTIFIC, by=manager
    )
    extra = {"submitted_at": timezone.now()} if state == ReviewState.SUBMITTED else {}
    Review.objects.filter(pk=review.pk).update(state=state, **extra)
    review.refresh_from_db()
    return review


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def page_url(call) -> str:
    return reverse("manage_assignment", args=[call.pk])


def signed_for(call, pairs) -> str:
    return signing.dumps({"call": call.pk, "pairs": pairs}, salt=SUGGESTION_SALT, compress=True)


def message_texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- The assignment page ------------------------------------------------------------------------


def test_the_page_shows_each_proposal_with_its_reviewers_and_the_pool_loads(
    manager_client, manager, call
):
    alpha, beta = submitted(call, "ALPHA"), submitted(call, "BETA", field="LS2")
    submitted(call, "GAMMA")
    ada, bea = pool(call, "Ada", max_load=3), pool(call, "Bea")
    cem, dan, eve = pool(call, "Cem"), pool(call, "Dan"), pool(call, "Eve")
    invite(alpha, ada, manager)
    invite(alpha, bea, manager, ReviewState.ACCEPTED)
    invite(beta, cem, manager, ReviewState.DECLINED)
    invite(beta, dan, manager, ReviewState.SUBMITTED)
    overdue = invite(beta, eve, manager)
    Review.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))

    response = manager_client.get(page_url(call))

    assert response.status_code == 200
    overview = response.context["overview"]
    assert [
        (
            row.proposal.reference,
            [(a.review.reviewer.full_name, a.badge_class) for a in row.reviews],
            row.still_needed,
        )
        for row in overview.rows
    ] == [
        ("JUP27-1-0001", [("Ada", "badge-invited"), ("Bea", "badge-accepted")], 0),
        (
            "JUP27-1-0002",
            [("Cem", "badge-declined"), ("Dan", "badge-submitted"), ("Eve", "badge-failed")],
            0,
        ),
        ("JUP27-1-0003", [], 2),
    ]
    assert overview.counts == {"proposals": 3, "open": 1, "missing": 2}
    assert [(m.user.full_name, m.load, m.capacity) for m in overview.pool] == [
        ("Ada", 1, 3),
        ("Bea", 1, 8),
        ("Cem", 0, 8),
        ("Dan", 1, 8),
        ("Eve", 1, 8),
    ]
    text = text_of(response)
    for expected in [
        "Reviewer assignment for JUPITER 2027-1",
        "Each proposal gets 2 scientific reviewers.",
        "3 proposals in review; 1 still need reviewers (2 missing).",
        "JUP27-1-0001 ALPHA",
        "Ada Invited Remove Ada from JUP27-1-0001 Bea Accepted Remove Bea from JUP27-1-0001",
        "LS2 Cem Declined Dan Submitted Eve Overdue (invited) Remove Eve from JUP27-1-0002",
        "JUP27-1-0003 GAMMA",
        "None yet 2",
        "Ada Ada Institute PE6 1 / 3",
        "Bea Bea Institute PE6 1 / 8 (default)",
        "at most 8 reviews",
    ]:
        assert expected in text, expected
    html = response.content.decode()
    assert f'action="{reverse("review_assign", args=[alpha.pk])}"' in html
    assert f'action="{reverse("review_remove", args=[overdue.pk])}"' in html
    assert '<option value="ada@review.example">Ada · PE6 · 1 of 3 reviews</option>' in html
    assert '<datalist id="call-reviewers">' in html
    assert f'action="{reverse("assignment_suggest", args=[call.pk])}"' in html


def test_only_proposals_still_needing_reviewers(manager_client, manager, call):
    alpha = submitted(call, "ALPHA")
    submitted(call, "BETA")
    invite(alpha, pool(call, "Ada"), manager)
    invite(alpha, pool(call, "Bea"), manager)

    response = manager_client.get(page_url(call), {"show": "open"})

    assert [row.proposal.acronym for row in response.context["overview"].rows] == ["BETA"]
    assert "1 proposal, by reference" in text_of(response)


def test_an_empty_call(manager_client, call):
    response = manager_client.get(page_url(call))

    text = text_of(response)
    assert "No proposal of this call is in review yet." in text
    assert "The call has no reviewers yet." in text


def test_pages_of_fifty(manager_client, call, monkeypatch):
    monkeypatch.setattr("proposals.review.selectors.assignment.PAGE_SIZE", 2)
    for name in ("ONE", "TWO", "THREE"):
        submitted(call, name)

    first = manager_client.get(page_url(call))
    second = manager_client.get(page_url(call), {"page": 2})

    assert [row.proposal.acronym for row in first.context["overview"].rows] == ["ONE", "TWO"]
    assert [row.proposal.acronym for row in second.context["overview"].rows] == ["THREE"]
    assert "Page 1 of 2" in text_of(first)


def test_the_page_uses_the_same_number_of_queries_for_1_and_3_proposals(
    manager_client, manager, call
):
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    first = submitted(call, "ONE")
    invite(first, ada, manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(page_url(call)).status_code == 200
        return len(queries)

    one = count()
    for name in ("TWO", "THREE"):
        proposal = submitted(call, name)
        invite(proposal, ada, manager)
        invite(proposal, bea, manager, ReviewState.DECLINED)
    pool(call, "Cem")

    assert count() == one


# --- Guards -------------------------------------------------------------------------------------


def test_guards(client, pi, manager, call):
    proposal = submitted(call, "ALPHA")
    review = invite(proposal, pool(call, "Ada"), manager)
    assert_guarded(client, pi, page_url(call))
    without_mfa = User.objects.get(email="nomfa@centre.example")
    for url in [
        reverse("assignment_suggest", args=[call.pk]),
        reverse("assignment_apply", args=[call.pk]),
        reverse("review_assign", args=[proposal.pk]),
        reverse("review_remove", args=[review.pk]),
    ]:
        client.logout()
        response = client.post(url)
        assert (response.status_code, response["Location"]) == (302, login_url_for(url))
        client.force_login(pi)
        assert client.post(url).status_code == 403
        client.force_login(without_mfa)
        assert client.post(url)["Location"] == second_factor_url("mfa_activate_totp")
    assert Review.objects.count() == 1


def test_unknown_objects_are_404(manager_client):
    assert manager_client.get(reverse("manage_assignment", args=[999])).status_code == 404
    for name in ("assignment_suggest", "assignment_apply", "review_assign", "review_remove"):
        assert manager_client.post(reverse(name, args=[999])).status_code == 404, name


def test_wrong_methods_are_405(manager_client, manager, call):
    proposal = submitted(call, "ALPHA")
    review = invite(proposal, pool(call, "Ada"), manager)

    assert manager_client.post(page_url(call)).status_code == 405
    for url in [
        reverse("assignment_suggest", args=[call.pk]),
        reverse("assignment_apply", args=[call.pk]),
        reverse("review_assign", args=[proposal.pk]),
        reverse("review_remove", args=[review.pk]),
    ]:
        assert manager_client.get(url).status_code == 405, url


# --- Suggest, preview, apply --------------------------------------------------------------------


def test_the_preview_shows_the_pairs_the_problems_and_a_signed_apply_form(manager_client, call):
    alpha = submitted(call, "ALPHA", keywords=["graphs"])
    beta = submitted(call, "BETA")
    ada = pool(call, "Ada", keywords=["graphs"])
    bea = pool(call, "Bea", ["LS2"])
    cem = pool(call, "Cem")
    Conflict.objects.create(
        proposal=beta,
        reviewer=cem,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.CONFIRMED,
    )

    response = manager_client.post(reverse("assignment_suggest", args=[call.pk]))

    assert response.status_code == 200
    suggestion = response.context["suggestion"]
    pairs = {(pair.proposal.acronym, pair.reviewer.full_name) for pair in suggestion.pairs}
    assert pairs == {("ALPHA", "Ada"), ("ALPHA", "Cem"), ("BETA", "Ada"), ("BETA", "Bea")}
    signed = response.context["signed"]
    assert signing.loads(signed, salt=SUGGESTION_SALT) == {
        "call": call.pk,
        "pairs": [[alpha.pk, ada.pk], [alpha.pk, cem.pk], [beta.pk, ada.pk], [beta.pk, bea.pk]],
    }
    text = text_of(response)
    for expected in [
        "4 reviewers suggested (missing before: 4, over 2 proposals in review).",
        "0 reviewers still missing after it.",
        "75% of the suggested reviewers work in the proposal's field; keywords overlap by 25% "
        "on average.",
        "JUP27-1-0001 ALPHA PE6 Ada PE6 Same field keywords 100%",
        "Apply: invite 4 reviewers",
    ]:
        assert expected in text, expected
    assert f'name="suggestion" value="{signed}"' in response.content.decode()
    assert Review.objects.count() == 0


def test_the_preview_lists_the_first_proposals_and_counts_the_rest(
    manager_client, call, monkeypatch
):
    """A summary, whatever the size of the call: only the first proposals' rows are shown,
    the others counted, and applying still invites every suggested reviewer."""
    monkeypatch.setattr("proposals.review.views.assignment.PREVIEW_PROPOSALS", 1)
    alpha = submitted(call, "ALPHA")
    beta = submitted(call, "BETA")
    ada = pool(call, "Ada")
    bea = pool(call, "Bea")

    response = manager_client.post(reverse("assignment_suggest", args=[call.pk]))

    assert [proposal for proposal, _ in response.context["preview"]] == [alpha]
    assert signing.loads(response.context["signed"], salt=SUGGESTION_SALT)["pairs"] == [
        [alpha.pk, ada.pk],
        [alpha.pk, bea.pk],
        [beta.pk, ada.pk],
        [beta.pk, bea.pk],
    ]
    text = text_of(response)
    assert "JUP27-1-0001 ALPHA" in text
    assert "JUP27-1-0002 BETA" not in text
    assert "1 more proposal gets reviewers too when you apply." in text
    assert "Apply: invite 4 reviewers" in text


def test_the_preview_lists_proposals_that_cannot_be_staffed(manager_client, call):
    alpha = submitted(call, "ALPHA")
    for name in ("Kai", "Lea", "Max"):
        Conflict.objects.create(
            proposal=alpha,
            reviewer=pool(call, name),
            reason=ConflictReason.TEAM,
            status=ConflictStatus.CONFIRMED,
        )
    pool(call, "Ada")

    response = manager_client.post(reverse("assignment_suggest", args=[call.pk]))

    text = text_of(response)
    assert "1 proposal cannot be fully staffed" in text
    assert (
        "JUP27-1-0001 ALPHA needs 2 reviewers; only 1 reviewer of the pool is eligible "
        "(3 excluded by conflicts)." in text
    )
    assert "1 reviewer still missing after it." in text


def test_apply_invites_what_the_manager_saw(manager_client, call):
    alpha = submitted(call, "ALPHA")
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    signed = signed_for(call, [[alpha.pk, ada.pk], [alpha.pk, bea.pk]])

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]), {"suggestion": signed}, follow=True
    )

    assert response.redirect_chain == [(page_url(call), 302)]
    assert message_texts(response) == ["2 reviewers invited."]
    assert sorted(
        Review.objects.filter(state=ReviewState.INVITED).values_list(
            "reviewer__full_name", flat=True
        )
    ) == ["Ada", "Bea"]


def test_the_manager_leaves_a_pair_out_and_swaps_another_before_applying(manager_client, call):
    """Issue 14, point 8: the preview is steered, not only accepted."""
    alpha = submitted(call, "ALPHA")
    beta = submitted(call, "BETA")
    ada, bea, cem = pool(call, "Ada"), pool(call, "Bea"), pool(call, "Cem Özdemir")
    signed = signed_for(call, [[alpha.pk, ada.pk], [alpha.pk, bea.pk], [beta.pk, ada.pk]])

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]),
        {
            "suggestion": signed,
            "drop": [f"{alpha.pk}:{bea.pk}"],
            f"instead-{beta.pk}:{ada.pk}": "özdemir",  # part of the name, any case
        },
        follow=True,
    )

    assert message_texts(response) == ["2 reviewers invited."]
    assert sorted(
        Review.objects.values_list("proposal__acronym", "reviewer__full_name", "state")
    ) == [("ALPHA", "Ada", ReviewState.INVITED), ("BETA", "Cem Özdemir", ReviewState.INVITED)]
    assert cem.reviews.count() == 1


@pytest.mark.parametrize(
    "typed, refusal",
    [
        (
            "nobody@nowhere.example",
            "No reviewer of this call's pool matches “nobody@nowhere.example”. Type part of a "
            "name or email and choose from the list.",
        ),
        ("be\x00a", "control character"),
    ],
    ids=["names nobody", "control character"],
)
def test_a_replacement_that_is_refused_leaves_its_pair_out_and_says_why(
    manager_client, call, typed, refusal
):
    alpha = submitted(call, "ALPHA")
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    signed = signed_for(call, [[alpha.pk, ada.pk], [alpha.pk, bea.pk]])

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]),
        {"suggestion": signed, f"instead-{alpha.pk}:{bea.pk}": typed},
        follow=True,
    )

    invited, refused = message_texts(response)
    assert invited == "1 reviewer invited."
    assert refusal in refused
    assert list(Review.objects.values_list("reviewer__full_name", flat=True)) == ["Ada"]


def test_the_preview_warns_of_pairs_with_nothing_in_common(manager_client, call):
    submitted(call, "ALPHA", keywords=["graphs"])
    pool(call, "Ada", ["LS2"], keywords=["proteins"])
    pool(call, "Bea", ["LS2"], keywords=["cells"])

    response = manager_client.post(reverse("assignment_suggest", args=[call.pk]))

    text = text_of(response)
    assert (
        "2 pairs share neither the field nor a keyword: look at them below, leave them out "
        "or invite someone else instead." in text
    )
    assert text.count("Nothing in common") == 2
    html = response.content.decode()
    assert 'name="drop" value="' in html and 'form="apply-form"' in html


def test_apply_reports_the_pairs_it_skipped(manager_client, manager, call):
    alpha = submitted(call, "ALPHA")
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    invite(alpha, bea, manager)
    signed = signed_for(call, [[alpha.pk, ada.pk], [alpha.pk, bea.pk]])

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]), {"suggestion": signed}, follow=True
    )

    assert message_texts(response) == [
        "1 reviewer invited.",
        "1 pair was no longer valid and was skipped: JUP27-1-0001 × Bea: the reviewer is "
        "already assigned to this proposal",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This suggestion was changed after it was made"),
        ("not-signed-at-all", "This suggestion was changed after it was made"),
        ("TAMPER", "This suggestion was changed after it was made"),
        ("OTHER_CALL", "This suggestion belongs to another call."),
        ("NOT_PAIRS", "This suggestion belongs to another call."),
    ],
)
def test_a_tampered_suggestion_is_refused(manager_client, call, value, message):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    genuine = signed_for(call, [[alpha.pk, ada.pk]])
    if value == "TAMPER":
        payload, _, signature = genuine.rpartition(":")
        value = (
            signing.dumps(
                {"call": call.pk, "pairs": [[alpha.pk, ada.pk + 1]]}, salt=SUGGESTION_SALT
            ).rpartition(":")[0]
            + ":"
            + signature
        )
    elif value == "OTHER_CALL":
        value = signing.dumps(
            {"call": call.pk + 1, "pairs": [[alpha.pk, ada.pk]]}, salt=SUGGESTION_SALT
        )
    elif value == "NOT_PAIRS":
        value = signing.dumps({"call": call.pk, "pairs": [["1", 2, 3]]}, salt=SUGGESTION_SALT)

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]), {"suggestion": value}
    )

    assert response.status_code == 400
    assert message in text_of(response)
    assert "Nothing was assigned." in text_of(response)
    assert Review.objects.count() == 0


def test_an_old_suggestion_is_refused(manager_client, call, monkeypatch):
    alpha = submitted(call, "ALPHA")
    signed = signed_for(call, [[alpha.pk, pool(call, "Ada").pk]])
    monkeypatch.setattr("proposals.review.views.assignment.SUGGESTION_MAX_AGE", -1)

    response = manager_client.post(
        reverse("assignment_apply", args=[call.pk]), {"suggestion": signed}
    )

    assert response.status_code == 400
    assert "This suggestion is more than a day old. Please ask for a new one." in text_of(response)


# --- By hand ------------------------------------------------------------------------------------


def test_assign_by_email_or_id(manager_client, call):
    alpha = submitted(call, "ALPHA")
    ada, bea = pool(call, "Ada"), pool(call, "Bea")
    url = reverse("review_assign", args=[alpha.pk])

    by_email = manager_client.post(
        url, {"reviewer": " ADA@review.example ", "kind": "scientific", "page": "2"}
    )
    by_id = manager_client.post(url, {"reviewer": str(bea.pk), "show": "open"}, follow=True)

    assert by_email.status_code == 302
    assert by_email["Location"] == f"{page_url(call)}?page=2#proposal-{alpha.pk}"
    assert by_id.redirect_chain == [(f"{page_url(call)}?show=open#proposal-{alpha.pk}", 302)]
    assert message_texts(by_id) == [
        "Ada is invited to review JUP27-1-0001.",
        "Bea is invited to review JUP27-1-0001.",
    ]
    assert list(Review.objects.values_list("reviewer", "state")) == [
        (ada.pk, ReviewState.INVITED),
        (bea.pk, ReviewState.INVITED),
    ]


def row_error(response, proposal) -> str:
    """The refusal printed at ``proposal``'s row of the assignment table."""
    row = response.content.decode().split(f'id="proposal-{proposal.pk}"')[1].split("</tr>")[0]
    found = re.findall(r'<p class="error row-error" id="reviewer-\d+-error">(.*?)</p>', row, re.S)
    return " ".join(html.unescape(" ".join(found)).split())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Choose a reviewer of this call's pool (name or email from the list)."),
        (
            "nobody@else.example",
            "No reviewer of this call's pool matches “nobody@else.example”. "
            "Type part of a name or email and choose from the list.",
        ),
        (
            "99999",
            "No reviewer of this call's pool matches “99999”. "
            "Type part of a name or email and choose from the list.",
        ),
    ],
)
def test_assign_someone_outside_the_pool_says_so_at_the_row(manager_client, call, value, message):
    alpha = submitted(call, "ALPHA")
    make_user("nobody@else.example")

    response = manager_client.post(
        reverse("review_assign", args=[alpha.pk]), {"reviewer": value, "kind": "technical"}
    )

    assert response.status_code == 400
    assert row_error(response, alpha) == message
    assert message_texts(response) == []
    assert f'value="{value}" aria-invalid="true"' in response.content.decode() or value == ""
    assert Review.objects.count() == 0


def test_part_of_a_name_or_email_assigns_the_one_it_matches(manager_client, call):
    alpha, beta = submitted(call, "ALPHA"), submitted(call, "BETA")
    ada, bea = pool(call, "Ada Lovelace"), pool(call, "Bea Noether")

    manager_client.post(reverse("review_assign", args=[alpha.pk]), {"reviewer": "lovel"})
    manager_client.post(reverse("review_assign", args=[beta.pk]), {"reviewer": "BEA NOETHER@"})

    assert set(Review.objects.values_list("proposal", "reviewer")) == {
        (alpha.pk, ada.pk),
        (beta.pk, bea.pk),
    }


def test_part_that_matches_several_names_them_at_the_row_and_keeps_what_was_typed(
    manager_client, call
):
    alpha = submitted(call, "ALPHA")
    pool(call, "Anna")
    pool(call, "Hannah")
    pool(call, "Bea")

    response = manager_client.post(
        reverse("review_assign", args=[alpha.pk]), {"reviewer": "ann", "page": "1"}
    )

    assert response.status_code == 400
    assert row_error(response, alpha) == (
        "“ann” matches several reviewers: Anna (anna@review.example); "
        "Hannah (hannah@review.example). Choose one."
    )
    assert (
        'value="ann" aria-invalid="true" aria-describedby="reviewer-' in response.content.decode()
    )
    assert Review.objects.count() == 0


def test_assign_a_pair_in_conflict_says_why_at_the_row(manager_client, call):
    alpha = submitted(call, "ALPHA")
    ada = pool(call, "Ada")
    Conflict.objects.create(
        proposal=alpha, reviewer=ada, reason=ConflictReason.DECLARED, status=ConflictStatus.DECLARED
    )

    response = manager_client.post(
        reverse("review_assign", args=[alpha.pk]), {"reviewer": ada.email}
    )

    assert response.status_code == 400
    assert row_error(response, alpha) == (
        "Ada has a conflict of interest with JUP27-1-0001 and cannot review it."
    )
    assert Review.objects.count() == 0


def test_remove_a_review(manager_client, manager, call):
    alpha = submitted(call, "ALPHA")
    review = invite(alpha, pool(call, "Ada"), manager)

    response = manager_client.post(reverse("review_remove", args=[review.pk]), follow=True)

    assert response.redirect_chain == [(f"{page_url(call)}#proposal-{alpha.pk}", 302)]
    assert message_texts(response) == ["Ada is no longer asked to review JUP27-1-0001."]
    review.refresh_from_db()
    assert review.state == ReviewState.REMOVED


def test_a_submitted_review_cannot_be_removed(manager_client, manager, call):
    alpha = submitted(call, "ALPHA")
    review = invite(alpha, pool(call, "Ada"), manager, ReviewState.SUBMITTED)

    response = manager_client.post(reverse("review_remove", args=[review.pk]), follow=True)

    assert message_texts(response) == [
        "A submitted review cannot be removed: it is part of the proposal's assessment. "
        "Reopen it if it must change."
    ]
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
