"""The general section of a draft: saving, bad input, who may edit, the deadline, problems."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import Call, CallRole
from proposals.submission.models import Proposal
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal
from tests.proposals.helpers import login_url_for


def url(proposal: Proposal, section: str = "general") -> str:
    return reverse("proposal_edit", args=[proposal.pk, section])


def general_data(proposal: Proposal, **changes: str) -> dict[str, str]:
    """The general form as the browser posts it back unchanged, except for ``changes``."""
    data = {
        "lock_version": str(proposal.lock_version),
        "title": proposal.title,
        "acronym": proposal.acronym,
        "abstract": proposal.abstract,
        "field": proposal.field,
        "keywords": ", ".join(proposal.keywords),
        "pi_affiliation": proposal.pi_affiliation,
        "pi_country": proposal.pi_country.code or "",
        "previous_allocations": proposal.previous_allocations,
        "excluded_reviewers": proposal.excluded_reviewers,
        "save": "draft",
    }
    data.update(changes)
    return data


def block(page: str, element_id: str) -> str:
    """The text of the element with ``element_id`` (a div or p), tags removed."""
    match = re.search(rf'<(div|p) [^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match[2])).strip()


def close(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def call(db) -> Call:
    return make_call()


@pytest.fixture
def draft(call, pi) -> Proposal:
    return make_proposal(call, pi, title="Old title")


# --- Saving ---------------------------------------------------------------------------------


def test_page_shows_the_saved_values(client, pi, call):
    proposal = make_proposal(
        call, pi, title="Sparse experts", keywords=["moe", "scaling laws"], field="PE6"
    )
    client.force_login(pi)

    page = client.get(url(proposal)).content.decode()

    assert 'name="title" value="Sparse experts"' in page
    assert 'name="keywords" value="moe, scaling laws"' in page
    assert '<option value="PE6" selected>PE6 Computer Science and Informatics</option>' in page
    assert '<input type="hidden" name="lock_version" value="1"' in page
    assert "At most 2,000 characters." in page
    assert "Save draft" in page
    assert "Save and continue" in page


def test_pi_saves_the_general_section(client, pi, draft):
    client.force_login(pi)
    data = general_data(
        draft,
        title="Scaling laws of sparse mixture-of-experts models",
        acronym="SPARSE-MOE",
        abstract="We measure how sparse models scale.\r\nSecond line.",
        field="PE6",
        keywords="language models,  Mixture of experts , language models, scaling",
        pi_affiliation="Forschungszentrum Jülich",
        pi_country="DE",
        previous_allocations="JUWELS 2025: 100,000 GPU-hours; two papers.",
        excluded_reviewers="Dr. Rival (competing group)",
    )

    response = client.post(url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == url(draft)
    draft.refresh_from_db()
    assert draft.title == "Scaling laws of sparse mixture-of-experts models"
    assert draft.acronym == "SPARSE-MOE"
    assert draft.abstract == "We measure how sparse models scale.\nSecond line."
    assert draft.field == "PE6"
    assert draft.keywords == ["language models", "Mixture of experts", "scaling"]
    assert (draft.pi_affiliation, draft.pi_country.code) == ("Forschungszentrum Jülich", "DE")
    assert draft.previous_allocations == "JUWELS 2025: 100,000 GPU-hours; two papers."
    assert draft.excluded_reviewers == "Dr. Rival (competing group)"
    assert (draft.lock_version, draft.updated_by) == (2, pi)
    page = client.get(response["Location"]).content.decode()
    saved_at = timezone.localtime(draft.updated_at).strftime("%H:%M:%S")
    assert f"Saved at {saved_at}." in page


def test_an_incomplete_draft_can_be_saved(client, pi, draft):
    client.force_login(pi)

    response = client.post(url(draft), general_data(draft, title="", keywords="", field=""))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.keywords, draft.field, draft.lock_version) == ("", [], "", 2)


def test_save_and_continue_goes_to_the_team_page(client, pi, draft):
    client.force_login(pi)
    data = general_data(draft, title="New")
    del data["save"]
    data["continue"] = "1"

    response = client.post(url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_team", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.title == "New"


# --- Bad input ------------------------------------------------------------------------------


def test_bad_input_keeps_every_typed_value_and_shows_each_error_beside_its_field(client, pi, draft):
    client.force_login(pi)
    abstract = "a" * 2001
    keywords = ", ".join(f"keyword {n}" for n in range(21))
    data = general_data(
        draft,
        title="A typed title",
        acronym="JUP 27!",
        abstract=abstract,
        keywords=keywords,
        excluded_reviewers="Someone",
    )

    response = client.post(url(draft), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert block(page, "id_acronym_error") == (
        "Use only letters, digits and dashes (no spaces), e.g. SPARSE-MOE."
    )
    assert block(page, "id_abstract_error") == (
        "Keep the abstract to 2000 characters or fewer; it has 2001."
    )
    assert block(page, "id_keywords_error") == "Give at most 20 keywords; you gave 21."
    assert 'name="title" value="A typed title"' in page
    assert 'name="acronym" value="JUP 27!"' in html.unescape(page)
    assert f">\n{abstract}</textarea>" in page
    assert f'name="keywords" value="{keywords}"' in page
    assert ">\nSomeone</textarea>" in page
    assert "There is a problem" in page
    assert 'href="#id_acronym"' in page
    draft.refresh_from_db()
    assert (draft.title, draft.acronym, draft.abstract, draft.lock_version) == (
        "Old title",
        "",
        "",
        1,
    )


def test_abstract_of_2000_characters_with_line_breaks_fits(client, pi, draft):
    """Browsers send a line break as two characters; it counts as one."""
    client.force_login(pi)
    abstract = "b" * 1000 + "\r\n" + "b" * 999  # 2,001 characters as sent

    response = client.post(url(draft), general_data(draft, abstract=abstract))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert len(draft.abstract) == 2000


def test_acronym_taken_in_the_call_is_shown_beside_the_field(client, pi, outsider, call, draft):
    make_proposal(call, outsider, acronym="SPARSE-MOE")
    client.force_login(pi)

    response = client.post(url(draft), general_data(draft, acronym="Sparse-MoE", title="Typed"))

    assert response.status_code == 200
    page = response.content.decode()
    assert block(page, "id_acronym_error") == (
        "Another proposal to this call already uses this acronym."
    )
    assert 'name="title" value="Typed"' in page
    draft.refresh_from_db()
    assert (draft.acronym, draft.title, draft.lock_version) == ("", "Old title", 1)


def test_keyword_too_long(client, pi, draft):
    client.force_login(pi)

    response = client.post(url(draft), general_data(draft, keywords="ok, " + "x" * 51))

    assert block(response.content.decode(), "id_keywords_error") == (
        f"Keep each keyword to 50 characters or fewer; too long: {'x' * 51}."
    )


def test_unknown_field_of_science_is_refused(client, pi, draft):
    client.force_login(pi)

    response = client.post(url(draft), general_data(draft, field="PE99"))

    assert response.status_code == 200
    assert block(response.content.decode(), "id_field_error") == (
        "Select a valid choice. PE99 is not one of the available choices."
    )


# --- Who may edit (PRODUCT §1.1) ------------------------------------------------------------

SECTIONS = ["general", "resources", "technical"]


@pytest.mark.parametrize("section", SECTIONS)
def test_pi_and_accepted_coinvestigator_may_open_every_section(client, pi, coi, draft, section):
    add_member(draft, coi)
    for person in (pi, coi):
        client.force_login(person)
        response = client.get(url(draft, section))
        assert response.status_code == 200
        assert 'name="save"' in response.content.decode()


def test_accepted_coinvestigator_saves(client, pi, coi, draft):
    add_member(draft, coi)
    client.force_login(coi)

    response = client.post(url(draft), general_data(draft, title="Carl's title"))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.updated_by, draft.lock_version) == ("Carl's title", coi, 2)


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("who", ["invited_coi", "outsider", "reviewer"])
def test_people_who_may_not_know_the_draft_get_404(client, pi, coi, request, draft, who, section):
    if who == "invited_coi":
        add_member(draft, coi, status="invited")
        person = coi
    else:
        person = request.getfixturevalue(who)
    if who == "reviewer":
        CallRole.objects.create(call=draft.call, role="reviewer", email=person.email, user=person)
    client.force_login(person)

    assert client.get(url(draft, section)).status_code == 404
    assert client.post(url(draft, section), general_data(draft, title="X")).status_code == 404
    draft.refresh_from_db()
    assert (draft.title, draft.lock_version) == ("Old title", 1)


def test_another_applicant_with_a_draft_in_the_same_call_gets_404(client, outsider, call, draft):
    make_proposal(call, outsider)
    client.force_login(outsider)

    assert client.get(url(draft)).status_code == 404


@pytest.mark.parametrize("section", SECTIONS)
def test_the_committee_does_not_see_a_draft(client, committee, draft, section):
    CallRole.objects.create(
        call=draft.call, role="committee", email=committee.email, user=committee
    )
    client.force_login(committee)

    assert client.get(url(draft, section)).status_code == 404
    assert client.post(url(draft, section), general_data(draft, title="X")).status_code == 404


@pytest.mark.parametrize("section", SECTIONS)
def test_a_manager_sees_it_read_only_and_may_not_save(client, manager, draft, section):
    client.force_login(manager)

    response = client.get(url(draft, section))

    assert response.status_code == 200
    page = response.content.decode()
    assert "You can read this proposal; only its team can change it." in page
    assert '<form method="post" novalidate class="section-form">' not in page
    assert 'name="save"' not in page
    assert client.post(url(draft, section), general_data(draft, title="X")).status_code == 403
    draft.refresh_from_db()
    assert (draft.title, draft.lock_version) == ("Old title", 1)


def test_read_only_fields_are_readonly_or_disabled(client, manager, draft):
    client.force_login(manager)

    page = client.get(url(draft)).content.decode()

    assert re.search(r'<input type="text" name="title" value="Old title"[^>]*\breadonly\b', page)
    assert re.search(r'<select name="field"[^>]*\bdisabled\b', page)
    assert re.search(r'<textarea name="abstract"[^>]*\breadonly\b', page)


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(client, draft, method):
    response = getattr(client, method)(url(draft))

    assert response.status_code == 302
    assert response["Location"] == login_url_for(url(draft))


def test_unknown_proposal_is_404(client, pi, draft):
    client.force_login(pi)

    assert client.get(reverse("proposal_edit", args=[draft.pk + 100, "general"])).status_code == 404


@pytest.mark.parametrize("section", ["team", "attachments", "nonsense"])
def test_unknown_section_is_404(client, pi, draft, section):
    client.force_login(pi)

    assert client.get(url(draft, section)).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405(client, pi, draft, method):
    client.force_login(pi)

    assert getattr(client, method)(url(draft)).status_code == 405


def test_submitted_proposal_is_read_only_for_its_team(client, pi, draft):
    # submitted as the editor sees it afterwards; the draft is not complete enough to submit
    Proposal.objects.filter(pk=draft.pk).update(status="submitted", reference="JUP27-1-0001")
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert "This proposal is submitted; it can no longer be changed here." in page
    assert 'name="save"' not in page
    assert client.post(url(draft), general_data(draft, title="X")).status_code == 403


# --- The deadline ---------------------------------------------------------------------------


def test_after_the_deadline_the_save_is_refused_and_nothing_changes(client, pi, call, draft):
    client.force_login(pi)
    close(call)

    response = client.post(url(draft), general_data(draft, title="Typed too late"))

    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert "this draft can no longer be changed. It is kept as it was, read-only" in page
    assert "the changes you just sent were not saved" in page
    assert re.search(r'name="title" value="Typed too late"[^>]*\breadonly\b', page)
    assert 'name="save"' not in page
    draft.refresh_from_db()
    assert (draft.title, draft.lock_version) == ("Old title", 1)


def test_after_the_deadline_the_team_reads_the_draft(client, pi, call, draft):
    client.force_login(pi)
    close(call)

    response = client.get(url(draft))

    assert response.status_code == 200
    page = response.content.decode()
    assert "The deadline has passed: this draft can no longer be changed" in page
    assert re.search(r'name="title" value="Old title"[^>]*\breadonly\b', page)
    assert 'name="save"' not in page


# --- Problems after a refused submission ----------------------------------------------------


def test_problems_are_shown_beside_their_fields_after_a_refused_submission(client, pi, draft):
    Proposal.objects.filter(pk=draft.pk).update(
        submit_attempted_at=timezone.now(), acronym="", abstract=""
    )
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert block(page, "id_acronym_error") == "Fill in “Acronym”."
    assert block(page, "id_abstract_error") == "Fill in “Abstract”."
    assert block(page, "id_field_error") == "Fill in “Field of science”."
    assert "id_title_error" not in page  # the title is filled in
    assert "The proposal could not be submitted yet." in page
    assert 'href="#id_acronym"' in page


def test_no_problems_shown_before_a_submission_was_tried(client, pi, draft):
    client.force_login(pi)

    page = client.get(url(draft)).content.decode()

    assert "Fill in “" not in page
    assert "could not be submitted" not in page


def test_a_problem_disappears_beside_a_field_the_user_just_changed(client, pi, draft):
    """On a refused save, a field typed anew no longer shows the old problem."""
    Proposal.objects.filter(pk=draft.pk).update(submit_attempted_at=timezone.now())
    draft.refresh_from_db()
    client.force_login(pi)

    response = client.post(url(draft), general_data(draft, acronym="NEW-ONE", abstract="x" * 2001))

    page = response.content.decode()
    assert "id_acronym_error" not in page
    assert block(page, "id_abstract_error") == (
        "Keep the abstract to 2000 characters or fewer; it has 2001."
    )
    assert block(page, "id_field_error") == "Fill in “Field of science”."
