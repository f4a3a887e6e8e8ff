"""Two people editing one draft at once (PRODUCT §4.2). Each page says, signed, what it was
loaded with; a save based on an older version goes through, keeping both, when the other
person changed nothing that was also changed here. When both changed the same field (or the
page does not say what it was loaded with) it is refused with their value shown, nothing typed
is lost, and saving again on purpose goes through."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.formatting import format_instant
from proposals.submission.models import Proposal, ScalingPoint
from tests.factories import make_call
from tests.proposal_factories import add_member, make_proposal


def url(proposal: Proposal, section: str = "general") -> str:
    return reverse("proposal_edit", args=[proposal.pk, section])


def form_values(page: str) -> dict[str, str]:
    """What a browser would post back from the page: every input, textarea and select."""
    values: dict[str, str] = {}
    for name, value in re.findall(
        r'<input type="(?:text|hidden|number)" name="([^"]+)"'
        r'(?: value="([^"]*)")?',
        page,
    ):
        values[name] = html.unescape(value)
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>\n?(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(value)
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = selected[1] if selected else ""
    values.pop("csrfmiddlewaretoken", None)
    return values


def theirs(page: str, field_id: str) -> str:
    """The text of the "their saved value" box beside a field."""
    match = re.search(
        rf'<div class="theirs" id="{field_id}_theirs">.*?<div class="theirs-value">(.*?)</div>',
        page,
        re.S,
    )
    assert match, f"no saved value shown beside {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match[1])).strip()


@pytest.fixture
def draft(db, pi, coi) -> Proposal:
    proposal = make_proposal(
        make_call(), pi, title="Original title", abstract="Original abstract", keywords=["moe"]
    )
    add_member(proposal, coi)
    return proposal


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def loaded(client: Client, proposal: Proposal, section: str = "general") -> dict[str, str]:
    """The section page as ``client`` opens it, as a browser would post it back."""
    return form_values(client.get(url(proposal, section)).content.decode())


def flash(response) -> list[str]:
    """The messages shown on the page a save led to."""
    return [str(message) for message in response.context["messages"]]


BOTH_CHANGED = (
    "You both changed the fields marked below: beside each is their saved value; keep yours or "
    "take theirs, then save again. Everything else you typed is kept."
)
EVERY_DIFFERENCE = (
    "Below, each field that differs shows their saved value; keep yours or take theirs, "
    "then save again."
)


def test_a_save_in_another_section_goes_through_keeping_both(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl_form = loaded(carl, draft, "technical")
    assert paula_form["lock_version"] == carl_form["lock_version"] == "1"
    carl.post(
        url(draft, "technical"),
        {**carl_form, "codes": "JAX 0.4", "scaling-0-gpus": "8", "scaling-0-seconds_per_step": "2"},
    )

    response = paula.post(
        url(draft), {**paula_form, "title": "Paula's title", "abstract": "Paula's abstract"}
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (
        draft.title,
        draft.abstract,
        draft.keywords,
        draft.codes,
        draft.lock_version,
        draft.updated_by,
    ) == ("Paula's title", "Paula's abstract", ["moe"], "JAX 0.4", 3, pi)
    assert [(p.gpus, p.seconds_per_step) for p in draft.scaling.all()] == [(8, Decimal("2"))]
    page = paula.get(response.url)
    assert flash(page)[0].endswith(
        "Carl Coinvestigator had meanwhile saved another part of the proposal; "
        "their changes are kept."
    )


def test_different_fields_of_one_page_are_merged_keeping_theirs(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl_form = loaded(carl, draft)
    carl.post(url(draft), {**carl_form, "title": "Carl's better title"})

    # Paula's form still holds the title she loaded: it must not overwrite Carl's.
    response = paula.post(url(draft), {**paula_form, "abstract": "Paula's new abstract"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.abstract, draft.lock_version, draft.updated_by) == (
        "Carl's better title",
        "Paula's new abstract",
        3,
        pi,
    )
    assert flash(paula.get(response.url))[0].endswith(
        ", together with the changes Carl Coinvestigator had meanwhile made on this page."
    )


def test_the_same_change_made_by_both_is_no_conflict(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl.post(url(draft), {**loaded(carl, draft), "keywords": "moe, scaling"})

    response = paula.post(url(draft), {**paula_form, "keywords": "moe,  scaling", "title": "T"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.keywords, draft.lock_version) == ("T", ["moe", "scaling"], 3)


def test_both_changing_a_field_is_refused_with_theirs_beside_it_then_goes_through(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl_form = loaded(carl, draft)
    carl.post(url(draft), {**carl_form, "title": "Carl's better title", "acronym": "CARL"})

    response = paula.post(
        url(draft), {**paula_form, "title": "Paula's title", "abstract": "Paula's new abstract"}
    )

    assert response.status_code == 409
    draft.refresh_from_db()
    assert (
        draft.title,
        draft.acronym,
        draft.abstract,
        draft.lock_version,
        draft.updated_by,
    ) == ("Carl's better title", "CARL", "Original abstract", 2, coi)
    page = response.content.decode()
    saved_at = format_instant(draft.updated_at, timezone.get_current_timezone())
    assert f"Carl Coinvestigator saved this proposal at {saved_at} after you opened it." in page
    assert "Your changes have NOT been saved." in page
    assert html.escape(BOTH_CHANGED) in page
    assert "Where only they changed a field, their value is filled in." in page
    # Their value beside the title only: the abstract only Paula changed, the acronym only Carl.
    assert theirs(page, "id_title") == "Carl's better title"
    assert re.findall(r'id="(id_\w+)_theirs"', page) == ["id_title"]
    assert 'name="title" value="Paula&#x27;s title"' in page
    assert ">\nPaula&#x27;s new abstract</textarea>" in page
    assert 'name="acronym" value="CARL"' in page
    assert '<input type="hidden" name="lock_version" value="2"' in page

    # Saving again is a deliberate choice: it goes through with Paula's title and Carl's acronym.
    assert paula.post(url(draft), form_values(page)).status_code == 302
    draft.refresh_from_db()
    assert (
        draft.title,
        draft.acronym,
        draft.abstract,
        draft.lock_version,
        draft.updated_by,
    ) == ("Paula's title", "CARL", "Paula's new abstract", 3, pi)


def test_taking_their_value_keeps_their_change(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl.post(url(draft), {**loaded(carl, draft), "title": "Carl's better title"})
    refused = paula.post(
        url(draft), {**paula_form, "title": "Paula's title", "abstract": "Paula's new abstract"}
    )
    assert refused.status_code == 409

    again = {**form_values(refused.content.decode()), "take_theirs": ["title"]}
    response = paula.post(url(draft), again)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.abstract, draft.lock_version) == (
        "Carl's better title",
        "Paula's new abstract",
        3,
    )


def test_same_person_in_two_tabs_is_told_so(pi, draft):
    first, second = signed_in(pi), signed_in(pi)
    first_form = loaded(first, draft)
    second_form = loaded(second, draft)
    first.post(url(draft), {**first_form, "title": "From the first tab"})

    response = second.post(url(draft), {**second_form, "title": "From the second tab"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "in another window or tab, after you opened this page." in page
    assert theirs(page, "id_title") == "From the first tab"


def test_same_person_in_two_tabs_changing_different_fields_is_merged(pi, draft):
    first, second = signed_in(pi), signed_in(pi)
    first_form = loaded(first, draft)
    second_form = loaded(second, draft)
    first.post(url(draft), {**first_form, "title": "From the first tab"})

    response = second.post(url(draft), {**second_form, "abstract": "From the second tab"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.abstract) == ("From the first tab", "From the second tab")
    assert flash(second.get(response.url))[0].endswith(
        ", keeping what you had meanwhile saved in another window or tab."
    )


def test_conflict_on_the_resources_shows_their_amount(pi, coi, draft):
    offer = draft.call.call_resources.get()
    amount = f"request-{offer.pk}-amount"
    justification = f"request-{offer.pk}-justification"
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft, "resources")
    carl.post(url(draft, "resources"), {**loaded(carl, draft, "resources"), amount: "120000"})

    response = paula.post(
        url(draft, "resources"), {**paula_form, amount: "90000", justification: "Paula's sums"}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert f'name="{amount}" value="90000"' in page
    assert theirs(page, f"id_{amount}") == "120,000"
    assert f'id="id_{justification}_theirs"' not in page  # only Paula changed it
    assert draft.requests.get().amount == Decimal("120000.00")


def test_resources_changed_in_different_fields_are_merged(pi, coi, draft):
    offer = draft.call.call_resources.get()
    amount = f"request-{offer.pk}-amount"
    justification = f"request-{offer.pk}-justification"
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft, "resources")
    carl.post(url(draft, "resources"), {**loaded(carl, draft, "resources"), amount: "120000"})

    response = paula.post(
        url(draft, "resources"), {**paula_form, justification: "400 runs of 300 GPU-hours."}
    )

    assert response.status_code == 302
    row = draft.requests.get()
    assert (row.amount, row.justification) == (Decimal("120000.00"), "400 runs of 300 GPU-hours.")


def test_conflict_on_the_scaling_table_shows_their_table_and_can_take_it(pi, coi, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=Decimal("10"))
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft, "technical")
    carl.post(
        url(draft, "technical"),
        {
            **loaded(carl, draft, "technical"),
            "scaling-1-gpus": "16",
            "scaling-1-seconds_per_step": "5.5",
        },
    )

    response = paula.post(
        url(draft, "technical"), {**paula_form, "codes": "JAX", "scaling-0-seconds_per_step": "9"}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert 'name="scaling-0-seconds_per_step" value="9"' in page
    their_table = re.search(r'<div class="theirs" id="scaling_theirs">(.*?)</table>', page, re.S)
    assert their_table
    assert re.findall(r'<td class="num">([^<]*)</td>', their_table[1]) == ["8", "10", "16", "5.5"]
    assert 'id="id_codes_theirs"' not in page  # only Paula changed the codes

    again = {**form_values(page), "take_theirs": ["scaling"]}
    assert paula.post(url(draft, "technical"), again).status_code == 302
    draft.refresh_from_db()
    assert draft.codes == "JAX"
    assert [(p.gpus, p.seconds_per_step) for p in draft.scaling.all()] == [
        (8, Decimal("10.0000")),
        (16, Decimal("5.5000")),
    ]


def test_their_scaling_table_is_kept_when_only_the_fields_were_changed_here(pi, coi, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=Decimal("10"))
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft, "technical")
    carl.post(
        url(draft, "technical"),
        {**loaded(carl, draft, "technical"), "scaling-0-seconds_per_step": "7.5"},
    )

    response = paula.post(url(draft, "technical"), {**paula_form, "codes": "JAX"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.codes == "JAX"
    assert [(p.gpus, p.seconds_per_step) for p in draft.scaling.all()] == [(8, Decimal("7.5000"))]


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("not-signed", id="garbage"),
        pytest.param(lambda token: token[:-2] + "xx", id="tampered"),
    ],
)
def test_without_what_the_page_was_loaded_with_every_difference_is_shown(pi, coi, draft, sent):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    carl.post(url(draft), {**loaded(carl, draft), "title": "Carl's better title"})
    if sent is None:
        del paula_form["loaded"]
    else:
        paula_form["loaded"] = sent(paula_form["loaded"]) if callable(sent) else sent

    response = paula.post(url(draft), {**paula_form, "abstract": "Paula's new abstract"})

    assert response.status_code == 409
    page = response.content.decode()
    assert html.escape(EVERY_DIFFERENCE) in page
    assert theirs(page, "id_title") == "Carl's better title"
    assert theirs(page, "id_abstract") == "Original abstract"
    assert 'id="id_keywords_theirs"' not in page  # the same on both sides
    assert 'name="title" value="Original title"' in page  # nothing filled in: it cannot know
    draft.refresh_from_db()
    assert (draft.title, draft.abstract, draft.lock_version) == (
        "Carl's better title",
        "Original abstract",
        2,
    )
    # The page comes back saying what it now holds, so saving again goes through.
    assert paula.post(url(draft), form_values(page)).status_code == 302


def test_a_page_loaded_from_another_version_is_not_trusted(pi, coi, draft):
    """What a page says it was loaded with counts only with the version it was loaded from."""
    paula, carl = signed_in(pi), signed_in(coi)
    stale = loaded(paula, draft)
    carl.post(url(draft), {**loaded(carl, draft), "title": "Carl's better title"})
    newer = loaded(paula, draft)

    response = paula.post(url(draft), {**stale, "loaded": newer["loaded"]})

    assert response.status_code == 409
    assert theirs(response.content.decode(), "id_title") == "Carl's better title"


def test_without_what_was_loaded_a_change_elsewhere_is_said_to_be_elsewhere(pi, coi, draft):
    offer = draft.call.call_resources.get()
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = loaded(paula, draft)
    del paula_form["loaded"]
    carl_form = loaded(carl, draft, "resources")
    carl.post(url(draft, "resources"), {**carl_form, f"request-{offer.pk}-amount": "50000"})

    response = paula.post(url(draft), paula_form)

    assert response.status_code == 409
    assert "Nothing on this page differs from their saved version" in response.content.decode()
    assert paula.post(url(draft), form_values(response.content.decode())).status_code == 302
