"""Bad input never answers 500 (issue 11): what a person or a script types into the proposal,
review and call pages is refused with a message beside its field, and the page shows again
what was typed. A NUL matters on PostgreSQL, which cannot store it; every test runs on both.
"""

import html
import re

import pytest
from django.urls import reverse

from proposals.calls.models import Call, CallRole
from proposals.review.models import Conflict, Reply, Review
from proposals.submission.models import Proposal, TeamMember
from tests.conftest import make_user
from tests.factories import make_call
from tests.hostile import invited_review, open_for_reply
from tests.proposal_factories import make_proposal
from tests.proposals.helpers import call_post_data
from tests.proposals.test_ranking import submitted_proposal

pytestmark = pytest.mark.django_db

NUL = "Thank you\x00 for the review"
NUL_MESSAGE = "Remove the invisible control character U+0000 from this text: it cannot be stored."
BELL = "Sparse\x07experts"
RLO = "Sparse \u202eexperts"
RLO_MESSAGE = (
    "Remove the text direction character U+202E RIGHT-TO-LEFT OVERRIDE: it makes the text read "
    "differently from how it is stored."
)
INVISIBLE = "\u200b\u200b\u3164"
INVISIBLE_MESSAGE = "Use visible letters or digits: this holds only invisible characters."
LONG_LOCAL = "a" * 65 + "@lab.example"
LOCAL_MESSAGE = "The part before the @ can have at most 64 characters; this one has 65."


def errors_of(response, form: str = "form") -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in response.context[form].errors.items()}


def shown(response, value: str) -> bool:
    """Whether the page holds ``value`` as typed (HTML-escaped, as a form shows it again)."""
    return html.escape(value, quote=True) in response.content.decode()


# --- The three POSTs found answering 500 ---------------------------------------------------


@pytest.fixture
def in_reply(pi, reviewer, manager):
    return open_for_reply(pi, reviewer, manager)


def test_a_nul_in_the_reply_is_refused_beside_the_field_and_kept(client, pi, in_reply):
    client.force_login(pi)

    response = client.post(reverse("proposal_reply", args=[in_reply.pk]), {"text": NUL})

    assert response.status_code == 200
    assert response.context["error"] == NUL_MESSAGE
    assert 'id="text-error"' in response.content.decode()
    assert shown(response, NUL)
    assert Reply.objects.count() == 0


@pytest.fixture
def invited(pi, reviewer):
    return invited_review(submitted_proposal(make_call(), pi, "MINE"), reviewer)


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        (NUL, NUL_MESSAGE),
        ("x" * 2001, "Keep this to 2000 characters or fewer; it has 2001."),
    ],
)
def test_a_bad_conflict_declaration_is_refused_beside_the_field_and_kept(
    client, reviewer, invited, detail, message
):
    client.force_login(reviewer)

    response = client.post(
        reverse("conflict_declare", args=[invited.proposal_id]), {"detail": detail}
    )

    assert response.status_code == 200
    assert errors_of(response, "conflict_form") == {"detail": [message]}
    assert 'id="id_conflict_detail_error"' in response.content.decode()
    assert shown(response, detail)
    assert Conflict.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reviewer": "rita\x00@inst.example"}, "Remove the invisible control character U+0000"),
        ({"reviewer": "x" * 300}, "Keep this to 254 characters or fewer; it has 300."),
        ({"reviewer": "reviewer@inst.example", "kind": "\x00"}, "Select a valid choice."),
    ],
)
def test_a_bad_manual_assignment_is_refused_with_the_reason(
    client, manager, reviewer, invited, data, message
):
    client.force_login(manager)
    Review.objects.all().delete()

    response = client.post(reverse("review_assign", args=[invited.proposal_id]), data)

    assert response.status_code == 400
    row = response.content.decode().split(f'id="proposal-{invited.proposal_id}"')[1]
    [refusal] = re.findall(r'<p class="error row-error"[^>]*>(.*?)</p>', row.split("</tr>")[0])
    assert message in html.unescape(refusal)
    assert Review.objects.count() == 0


def test_a_manual_assignment_by_email_still_works(client, manager, reviewer, invited):
    client.force_login(manager)
    Review.objects.all().delete()

    client.post(
        reverse("review_assign", args=[invited.proposal_id]), {"reviewer": " Reviewer@Inst.example"}
    )

    assert Review.objects.get().reviewer == reviewer


# --- Names, titles, acronyms, codes; lengths ------------------------------------------------


@pytest.fixture
def draft(pi):
    return make_proposal(make_call(), pi, title="Old title", acronym="OLD")


def general(proposal: Proposal, **changes: str) -> dict[str, str]:
    return {
        "lock_version": str(proposal.lock_version),
        "title": proposal.title,
        "acronym": proposal.acronym,
        "save": "draft",
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", NUL, "Remove the invisible control character U+0000: it cannot be stored."),
        ("title", BELL, "Remove the invisible control character U+0007: it cannot be stored."),
        ("title", RLO, RLO_MESSAGE),
        ("title", INVISIBLE, INVISIBLE_MESSAGE),
        ("title", "Sparse\nexperts", "Keep this to one line, without line breaks or tabs."),
        ("title", "T" * 201, "Keep the title to 200 characters or fewer; it has 201."),
        ("acronym", "SP\u2066ARSE", "Remove the text direction character U+2066"),
        ("pi_affiliation", INVISIBLE, INVISIBLE_MESSAGE),
        ("abstract", NUL, NUL_MESSAGE),
        ("keywords", "moe, \u200b", INVISIBLE_MESSAGE),
        ("previous_allocations", "p" * 10_001, "Keep this to 10000 characters or fewer"),
        ("excluded_reviewers", NUL, NUL_MESSAGE),
    ],
)
def test_the_general_section_refuses_beside_the_field_and_keeps_it(
    client, pi, draft, field, value, message
):
    client.force_login(pi)

    response = client.post(
        reverse("proposal_edit", args=[draft.pk, "general"]), general(draft, **{field: value})
    )

    assert response.status_code == 200
    errors = errors_of(response, "form")
    assert list(errors) == [field]
    assert any(error.startswith(message) for error in errors[field]), errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert shown(response, value)
    draft.refresh_from_db()
    assert (draft.title, draft.acronym, draft.lock_version) == ("Old title", "OLD", 1)


def test_a_justification_of_100000_characters_is_refused(client, pi, draft):
    offer = draft.call.call_resources.get()
    client.force_login(pi)
    data = {
        "lock_version": str(draft.lock_version),
        "save": "draft",
        f"request-{offer.pk}-amount": "20000",
        f"request-{offer.pk}-justification": "j" * 100_000,
    }

    response = client.post(reverse("proposal_edit", args=[draft.pk, "resources"]), data)

    assert response.status_code == 200
    assert errors_of(response) == {
        f"request-{offer.pk}-justification": [
            "Keep this to 5000 characters or fewer; it has 100000."
        ]
    }
    assert not draft.requests.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("codes", NUL, NUL_MESSAGE),
        ("job_size", INVISIBLE, INVISIBLE_MESSAGE),
        ("storage", "s" * 5001, "Keep this to 5000 characters or fewer; it has 5001."),
    ],
)
def test_the_technical_section_refuses_beside_the_field(client, pi, draft, field, value, message):
    client.force_login(pi)
    data = {
        "lock_version": str(draft.lock_version),
        "save": "draft",
        "scaling-TOTAL_FORMS": "0",
        "scaling-INITIAL_FORMS": "0",
        field: value,
    }

    response = client.post(reverse("proposal_edit", args=[draft.pk, "technical"]), data)

    assert response.status_code == 200
    assert errors_of(response) == {field: [message]}
    assert shown(response, value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "JUPITER \u202e2027", RLO_MESSAGE),
        ("code", "\x00", "Remove the invisible control character U+0000: it cannot be stored."),
        ("name", INVISIBLE, INVISIBLE_MESSAGE),
        ("reference_prefix", "JUP\u200b", "Use only letters, digits and dashes, e.g. JUP27-1."),
        ("description", NUL, NUL_MESSAGE),
        ("guidelines", "g" * 20_001, "Keep this to 20000 characters or fewer; it has 20001."),
    ],
)
def test_the_call_form_refuses_beside_the_field_and_keeps_it(
    client, manager, field, value, message
):
    client.force_login(manager)

    response = client.post(reverse("manage_call_create"), call_post_data(**{field: value}))

    assert response.status_code == 200
    assert errors_of(response, "form") == {field: [message]}
    assert shown(response, value)
    assert not Call.objects.exists()


def test_a_criterion_name_of_invisible_characters_is_refused(client, manager):
    client.force_login(manager)
    criteria = [{"name": INVISIBLE, "description": "", "weight": "1"}]
    criteria[0].update(scale_min="0", scale_max="5")

    response = client.post(reverse("manage_call_create"), call_post_data(criteria=criteria))

    assert response.status_code == 200
    assert response.context["editor"].criteria.forms[0].errors == {"name": [INVISIBLE_MESSAGE]}
    assert not Call.objects.exists()


# --- Email addresses: at most 64 characters before the @ ------------------------------------


def test_a_team_invitation_to_a_long_local_part_is_refused(client, pi, draft):
    client.force_login(pi)

    response = client.post(reverse("team_invite", args=[draft.pk]), {"email": LONG_LOCAL})

    assert response.status_code == 200
    assert errors_of(response) == {"email": [LOCAL_MESSAGE]}
    assert shown(response, LONG_LOCAL)
    assert not TeamMember.objects.exists()


def test_a_role_for_a_long_local_part_is_refused(client, manager):
    call = make_call()
    client.force_login(manager)

    response = client.post(
        reverse("manage_call_people", args=[call.pk]), {"email": LONG_LOCAL, "role": "reviewer"}
    )

    assert response.status_code == 200
    assert errors_of(response) == {"email": [LOCAL_MESSAGE]}
    assert not CallRole.objects.exists()


def test_64_characters_before_the_at_are_accepted(client, pi, draft):
    make_user("b" * 64 + "@lab.example")
    client.force_login(pi)

    response = client.post(
        reverse("team_invite", args=[draft.pk]), {"email": "b" * 64 + "@lab.example"}
    )

    assert response.status_code == 302
    assert TeamMember.objects.get().email == "b" * 64 + "@lab.example"
