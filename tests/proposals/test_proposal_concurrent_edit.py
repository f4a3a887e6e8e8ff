"""Two people editing one draft at once (PRODUCT §4.2): the second save is refused with the
other's changes shown, nothing typed is lost, and saving again on purpose goes through."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from proposals.models import Proposal, ScalingPoint
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


def test_second_save_is_refused_with_the_others_value_shown_then_goes_through(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = form_values(paula.get(url(draft)).content.decode())
    carl_form = form_values(carl.get(url(draft)).content.decode())
    assert paula_form["lock_version"] == carl_form["lock_version"] == "1"

    carl_form["title"] = "Carl's better title"
    assert carl.post(url(draft), carl_form).status_code == 302

    paula_form["abstract"] = "Paula's new abstract"
    response = paula.post(url(draft), paula_form)

    assert response.status_code == 409
    draft.refresh_from_db()
    assert (draft.title, draft.abstract, draft.lock_version, draft.updated_by) == (
        "Carl's better title",
        "Original abstract",
        2,
        coi,
    )
    page = response.content.decode()
    saved_at = dateformat.format(timezone.localtime(draft.updated_at), "j M Y, H:i:s T")
    assert f"Carl Coinvestigator saved this proposal at {saved_at} after you opened it." in page
    assert "Your changes have NOT been saved." in page
    assert (
        "Below, each field that differs shows their saved value; keep yours or take theirs, "
        "then save again." in page
    )
    # Paula's typing is all there, Carl's title and the saved abstract beside her fields.
    assert ">\nPaula&#x27;s new abstract</textarea>" in page
    assert 'name="title" value="Original title"' in page
    assert theirs(page, "id_title") == "Carl's better title"
    assert theirs(page, "id_abstract") == "Original abstract"
    assert 'id="id_keywords_theirs"' not in page  # the same on both sides
    assert '<input type="hidden" name="lock_version" value="2"' in page

    # Saving again is a deliberate choice: it goes through, and keeps Paula's values.
    again = form_values(page)
    assert paula.post(url(draft), again).status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.abstract, draft.lock_version, draft.updated_by) == (
        "Original title",
        "Paula's new abstract",
        3,
        pi,
    )


def test_taking_their_value_keeps_their_change(pi, coi, draft):
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = form_values(paula.get(url(draft)).content.decode())
    carl_form = form_values(carl.get(url(draft)).content.decode())
    carl_form["title"] = "Carl's better title"
    carl.post(url(draft), carl_form)
    paula_form["abstract"] = "Paula's new abstract"
    page = paula.post(url(draft), paula_form).content.decode()

    again = {**form_values(page), "take_theirs": ["title"]}
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
    first_form = form_values(first.get(url(draft)).content.decode())
    second_form = form_values(second.get(url(draft)).content.decode())
    first_form["title"] = "From the first tab"
    first.post(url(draft), first_form)

    second_form["title"] = "From the second tab"
    response = second.post(url(draft), second_form)

    assert response.status_code == 409
    page = response.content.decode()
    assert "in another window or tab, after you opened this page." in page
    assert theirs(page, "id_title") == "From the first tab"


def test_conflict_on_the_resources_shows_their_amount(pi, coi, draft):
    offer = draft.call.call_resources.get()
    amount = f"request-{offer.pk}-amount"
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = form_values(paula.get(url(draft, "resources")).content.decode())
    carl_form = form_values(carl.get(url(draft, "resources")).content.decode())
    carl.post(url(draft, "resources"), {**carl_form, amount: "120000"})

    response = paula.post(url(draft, "resources"), {**paula_form, amount: "90000"})

    assert response.status_code == 409
    page = response.content.decode()
    assert f'name="{amount}" value="90000"' in page
    assert theirs(page, f"id_{amount}") == "120,000"
    assert draft.requests.get().amount == Decimal("120000.00")


def test_conflict_on_the_scaling_table_shows_their_table_and_can_take_it(pi, coi, draft):
    ScalingPoint.objects.create(proposal=draft, gpus=8, seconds_per_step=Decimal("10"))
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = form_values(paula.get(url(draft, "technical")).content.decode())
    carl_form = form_values(carl.get(url(draft, "technical")).content.decode())
    carl.post(
        url(draft, "technical"),
        {**carl_form, "scaling-1-gpus": "16", "scaling-1-seconds_per_step": "5.5"},
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

    again = {**form_values(page), "take_theirs": ["scaling"]}
    assert paula.post(url(draft, "technical"), again).status_code == 302
    draft.refresh_from_db()
    assert draft.codes == "JAX"
    assert [(p.gpus, p.seconds_per_step) for p in draft.scaling.all()] == [
        (8, Decimal("10.0000")),
        (16, Decimal("5.5000")),
    ]


def test_a_save_in_another_section_also_asks_before_overwriting(pi, coi, draft):
    """One version per proposal: a change elsewhere still refuses the stale page, and says
    that nothing on this page differs."""
    offer = draft.call.call_resources.get()
    paula, carl = signed_in(pi), signed_in(coi)
    paula_form = form_values(paula.get(url(draft)).content.decode())
    carl_form = form_values(carl.get(url(draft, "resources")).content.decode())
    carl.post(url(draft, "resources"), {**carl_form, f"request-{offer.pk}-amount": "50000"})

    response = paula.post(url(draft), paula_form)

    assert response.status_code == 409
    assert "Nothing on this page differs from their saved version" in response.content.decode()
    assert paula.post(url(draft), form_values(response.content.decode())).status_code == 302
