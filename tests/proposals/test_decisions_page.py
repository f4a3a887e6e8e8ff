"""The decisions page of a call (PRODUCT §6): managers save and ask for a suggestion, the
committee reads, everyone else is kept out; errors beside the fields and the over-budget error
at the top with every typed value kept; running totals; constant queries.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.calls.models import Call
from proposals.decisions.enums import DecisionOutcome
from proposals.decisions.models import AwardLine, Decision
from proposals.decisions.selectors import deciding as decision_selectors
from proposals.review.enums import ConflictStatus
from proposals.submission.models import Proposal
from tests.conftest import make_manager, make_user
from tests.proposals.decisions_factories import (
    SUGGESTED,
    decide,
    decide_all,
    decisions_call,
    on_committee,
    submitted,
    worked_example,
)
from tests.proposals.helpers import login_url_for, second_factor_url
from tests.proposals.test_ranking import conflict, in_review, page_text, scientific

pytestmark = pytest.mark.django_db

AWARDED = DecisionOutcome.AWARDED
PARTIAL = DecisionOutcome.PARTIALLY_AWARDED
WAITLISTED = DecisionOutcome.WAITLISTED
REJECTED = DecisionOutcome.REJECTED


@pytest.fixture
def example(db):
    return worked_example()


def url(example) -> str:
    return reverse("manage_decisions", args=[example.call.pk])


def suggest_url(example) -> str:
    return reverse("decisions_suggest", args=[example.call.pk])


def post_data(example, rows: dict[str, tuple[str, str, str]], **extra: str) -> dict[str, str]:
    """The form as a browser posts it: every row of the page, the undecided ones with an empty
    decision and their default amount; ``rows``: acronym → (outcome, amount, message)."""
    defaults = {"ALPHA": "400000.00", "BRAVO": "300000.00", "CHARLIE": "400000.00"}
    defaults |= {"DELTA": "100000.00", "ECHO": "200000.00", "FOXTROT": "100000.00"}
    data = dict(extra)
    for acronym, proposal in example.proposals.items():
        outcome, amount, message = rows.get(acronym, ("", defaults[acronym], ""))
        data[f"outcome-{proposal.pk}"] = outcome
        data[f"amount-{proposal.pk}-{example.offer_id}"] = amount
        data[f"message-{proposal.pk}"] = message
    return data


def saved(example) -> dict[str, tuple[str, Decimal | None, str]]:
    result = {}
    for decision in Decision.objects.filter(proposal__call=example.call).select_related("proposal"):
        line = AwardLine.objects.filter(decision=decision).first()
        result[decision.proposal.acronym] = (
            decision.outcome,
            line.amount if line else None,
            decision.message,
        )
    return result


def field_value(response, name: str) -> str:
    """The value of an input, or the selected option of a select, as the page shows it."""
    html = response.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)" selected>', select[1])
        return chosen[1] if chosen else ""
    textarea = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    if textarea:
        return textarea[1]
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', found[0]) if found else None
    return value[1] if value else ""


# --- Who may open it ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, example):
    for target in (url(example), suggest_url(example)):
        method = client.get if target == url(example) else client.post
        response = method(target)
        assert (response.status_code, response["Location"]) == (302, login_url_for(target))


@pytest.mark.parametrize("role", ["pi", "coi", "outsider", "reviewer"])
def test_applicants_and_reviewers_get_403(client, example, role, request):
    person = request.getfixturevalue(role)
    client.force_login(person)

    assert client.get(url(example)).status_code == 403
    assert client.post(url(example), post_data(example, {})).status_code == 403
    assert client.post(suggest_url(example)).status_code == 403


def test_a_manager_without_two_factor_authentication_is_sent_to_set_it_up(client, example):
    client.force_login(make_manager("nomfa@centre.example", with_mfa=False))

    for response, back in (
        (client.get(url(example)), url(example)),
        (client.post(suggest_url(example)), "/"),
    ):
        assert (response.status_code, response["Location"]) == (
            302,
            second_factor_url("mfa_activate_totp", back),
        )


def test_an_unknown_call_is_404(manager_client, example):
    assert manager_client.get(reverse("manage_decisions", args=[999])).status_code == 404
    assert manager_client.post(reverse("decisions_suggest", args=[999])).status_code == 404


def test_wrong_methods_are_405(manager_client, example):
    assert manager_client.put(url(example)).status_code == 405
    assert manager_client.delete(url(example)).status_code == 405
    assert manager_client.get(suggest_url(example)).status_code == 405


def test_the_committee_reads_the_decisions_but_cannot_change_them(client, example, manager):
    decide_all(example, manager)
    reader = make_user("board@board.example", full_name="Bea Board")
    on_committee(example.call, reader)
    client.force_login(reader)

    response = client.get(url(example))

    assert response.status_code == 200
    text = page_text(response)
    assert "You read the decisions as a member of the committee" in text
    assert "Save decisions" not in text
    assert "Suggest awards" not in text
    assert "Publish the decisions" not in text
    assert 'name="outcome-' not in response.content.decode()
    assert "1 JUP27-1-0001 ALPHA The ALPHA project 5.00 Awarded 400,000" in text
    assert "Congratulations: a strong proposal." in text
    assert client.post(url(example), post_data(example, {})).status_code == 403
    assert client.post(suggest_url(example)).status_code == 403
    assert saved(example)["ALPHA"] == (
        AWARDED,
        Decimal(400_000),
        "Congratulations: a strong proposal.",
    )


def test_a_committee_member_in_conflict_does_not_see_that_proposal(client, example, committee):
    on_committee(example.call, committee)
    conflict(example["BRAVO"], committee, ConflictStatus.DECLARED)
    client.force_login(committee)

    text = page_text(client.get(url(example)))

    assert "BRAVO" not in text
    assert "One proposal you are in conflict with, or on the team of, is left out" in text


# --- The manager's page ---------------------------------------------------------------------------


def test_the_manager_sees_the_ranking_with_default_amounts(manager_client, example):
    response = manager_client.get(url(example))

    assert response.status_code == 200
    text = page_text(response)
    assert "6 proposals in competition. 6 have no decision yet." in text
    assert "JUPITER Booster (GPU-hours) 1,000,000 0 1,000,000" in text
    references = re.findall(r"\d (JUP27-1-000\d) [A-Z]+ The", text)
    assert references == [f"JUP27-1-000{n}" for n in range(1, 7)]
    alpha, bravo = example["ALPHA"], example["BRAVO"]
    assert field_value(response, f"outcome-{alpha.pk}") == ""
    assert field_value(response, f"amount-{alpha.pk}-{example.offer_id}") == "400000.00"
    # BRAVO asks 400,000; the technical review recommends 300,000.
    assert field_value(response, f"amount-{bravo.pk}-{example.offer_id}") == "300000.00"
    assert "Fundable threshold 3.00 · the proposals below score under it 6 JUP27-1-0006" in text


def test_saving_from_the_page(manager_client, example):
    data = post_data(
        example,
        {
            "ALPHA": ("awarded", "400000", "Well done."),
            "BRAVO": ("partially_awarded", "", ""),
            "FOXTROT": ("rejected", "100000.00", "Below the threshold."),
        },
    )

    response = manager_client.post(url(example), data)

    assert (response.status_code, response["Location"]) == (302, url(example))
    assert saved(example) == {
        "ALPHA": (AWARDED, Decimal(400_000), "Well done."),
        # An empty amount is the default: the request capped by the recommendation.
        "BRAVO": (PARTIAL, Decimal(300_000), ""),
        "FOXTROT": (REJECTED, None, "Below the threshold."),
    }
    page = manager_client.get(url(example))
    assert "3 decisions saved." in page_text(page)
    assert "JUPITER Booster (GPU-hours) 1,000,000 700,000 300,000" in page_text(page)


def test_over_budget_is_shown_at_the_top_with_every_value_kept(manager_client, example):
    data = post_data(
        example,
        {
            "ALPHA": ("awarded", "500000", "First."),
            "BRAVO": ("awarded", "300000", ""),
            "CHARLIE": ("partially_awarded", "250000", "Partly."),
        },
    )

    response = manager_client.post(url(example), data)

    assert response.status_code == 200
    text = page_text(response)
    assert (
        "Nothing was saved JUPITER Booster: the awards add up to 1,050,000 GPU-hours, more than "
        "the budget of 1,000,000 GPU-hours. Nothing was saved. Every value you typed is kept "
        "below." in text
    )
    charlie = example["CHARLIE"]
    assert field_value(response, f"outcome-{charlie.pk}") == "partially_awarded"
    assert field_value(response, f"amount-{charlie.pk}-{example.offer_id}") == "250000"
    assert field_value(response, f"message-{charlie.pk}") == "Partly."
    # The budget and the running totals add up what was typed.
    assert "With the values below (not saved)." in text
    assert "JUPITER Booster (GPU-hours) 1,000,000 1,050,000 -50,000 over budget" in text
    assert "running total 1,050,000 over budget" in text
    assert saved(example) == {}


def test_field_errors_are_shown_beside_the_fields(manager_client, example):
    alpha, bravo = example["ALPHA"], example["BRAVO"]
    data = post_data(
        example,
        {
            "ALPHA": ("awarded", "lots", "Typed."),
            "BRAVO": ("awarded", "600000", ""),
            "CHARLIE": ("awarded", "0", ""),
        },
    )

    response = manager_client.post(url(example), data)

    assert response.status_code == 200
    html = response.content.decode()
    offer = example.offer_id
    assert f'<p class="error" id="id_amount-{alpha.pk}-{offer}_error">Enter a number.</p>' in html
    assert (
        f'<p class="error" id="id_amount-{bravo.pk}-{offer}_error">At most 500,000 GPU-hours can '
        "be awarded to one proposal.</p>" in html
    )
    charlie = example["CHARLIE"]
    assert (
        f'<p class="error" id="id_outcome-{charlie.pk}_error">An award needs an amount of at '
        "least one resource.</p>" in html
    )
    assert "Please correct the fields marked below. Nothing you typed has been lost." in html
    assert field_value(response, f"amount-{alpha.pk}-{offer}") == "lots"
    assert field_value(response, f"message-{alpha.pk}") == "Typed."
    assert saved(example) == {}


def test_a_saved_decision_cannot_be_cleared(manager_client, example, manager):
    decide(example, manager, {"ALPHA": (AWARDED, None)})

    response = manager_client.post(url(example), post_data(example, {"ALPHA": ("", "", "")}))

    assert response.status_code == 200
    assert "A saved decision cannot be removed; choose one of the decisions." in page_text(response)
    assert saved(example) == {"ALPHA": (AWARDED, Decimal(400_000), "")}


def test_a_saved_page_shows_the_running_totals(manager_client, example, manager):
    decide_all(example, manager)

    text = page_text(manager_client.get(url(example)))

    assert "6 proposals in competition. 0 have no decision yet." in text
    running = re.findall(r"running total ([\d,]+)", text)
    assert running == ["400,000", "700,000", "1,000,000", "1,000,000", "1,000,000", "1,000,000"]
    assert "JUPITER Booster (GPU-hours) 1,000,000 1,000,000 0" in text


def test_posting_after_publication_is_refused_with_the_reason(manager_client, example, manager):
    decide_all(example, manager)
    Call.objects.filter(pk=example.call.pk).update(decisions_published_at=timezone.now())

    response = manager_client.post(
        url(example), post_data(example, {"DELTA": ("awarded", "100000", "")}), follow=True
    )

    text = page_text(response)
    assert "The decisions are published; they can no longer be changed." in text
    assert 'name="outcome-' not in response.content.decode()
    assert saved(example)["DELTA"] == (WAITLISTED, None, "")


# --- The suggestion -------------------------------------------------------------------------------


def test_suggest_fills_the_form_and_saves_nothing(manager_client, example):
    response = manager_client.post(suggest_url(example))

    assert response.status_code == 200
    text = page_text(response)
    assert "Suggested awards, not saved" in text
    assert "nothing is saved until you press “Save decisions”" in text
    assert "With the suggested awards (not saved)." in text
    offer = example.offer_id
    shown = {
        acronym: (
            field_value(response, f"outcome-{proposal.pk}"),
            field_value(response, f"amount-{proposal.pk}-{offer}"),
        )
        for acronym, proposal in example.proposals.items()
    }
    assert shown == {
        "ALPHA": ("awarded", "400000.00"),
        "BRAVO": ("awarded", "300000.00"),
        "CHARLIE": ("partially_awarded", "300000.00"),
        "DELTA": ("waitlisted", "100000.00"),
        "ECHO": ("waitlisted", "200000.00"),
        "FOXTROT": ("rejected", "100000.00"),
    }
    assert Decision.objects.count() == 0


def test_the_suggestion_saved_as_shown(manager_client, example):
    suggestion = manager_client.post(suggest_url(example))
    offer = example.offer_id
    data = {}
    for proposal in example.proposals.values():
        for name in (f"outcome-{proposal.pk}", f"amount-{proposal.pk}-{offer}"):
            data[name] = field_value(suggestion, name)
        data[f"message-{proposal.pk}"] = ""

    manager_client.post(url(example), data)

    assert {key: value[:2] for key, value in saved(example).items()} == {
        key: (outcome, None if amount is None else Decimal(amount))
        for key, (outcome, amount) in SUGGESTED.items()
    }


# --- Pages and queries ----------------------------------------------------------------------------


def test_rows_are_saved_page_by_page(manager_client, example, monkeypatch):
    monkeypatch.setattr(decision_selectors, "DECISIONS_PAGE_SIZE", 4)

    second = manager_client.get(url(example) + "?page=2")
    text = page_text(second)
    assert "Page 2 of 2" in text
    assert "Ranks 5–6 of 6 proposals in competition" in text
    echo, foxtrot = example["ECHO"], example["FOXTROT"]
    data = {
        "page": "2",
        f"outcome-{echo.pk}": "waitlisted",
        f"amount-{echo.pk}-{example.offer_id}": "200000.00",
        f"message-{echo.pk}": "",
        f"outcome-{foxtrot.pk}": "rejected",
        f"amount-{foxtrot.pk}-{example.offer_id}": "",
        f"message-{foxtrot.pk}": "",
    }

    response = manager_client.post(url(example), data)

    assert response["Location"] == url(example) + "?page=2"
    assert saved(example) == {"ECHO": (WAITLISTED, None, ""), "FOXTROT": (REJECTED, None, "")}


def _queries(client, call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("manage_decisions", args=[call.pk]))
    assert response.status_code == 200
    return len(queries)


def test_constant_queries_for_one_and_three_proposals(manager_client, manager):
    call = decisions_call()
    proposals = [
        submitted(call, make_user(f"q{n}@uni.example"), f"Q{n}", 100_000) for n in range(3)
    ]
    in_review(call)
    reviewer = make_user("rita@review.example")
    for proposal in proposals:
        scientific(proposal, reviewer, 4, 4)
    Decision.objects.create(proposal=proposals[0], outcome=AWARDED, decided_by=manager)
    AwardLine.objects.create(
        decision=proposals[0].decision,
        call_resource=call.call_resources.get(),
        amount=Decimal(100_000),
    )
    # out of competition and back again: no service returns a withdrawn proposal
    Proposal.objects.filter(pk__in=[p.pk for p in proposals[1:]]).update(status="withdrawn")
    one = _queries(manager_client, call)
    Proposal.objects.filter(pk__in=[p.pk for p in proposals[1:]]).update(status="submitted")
    for proposal in proposals[1:]:
        decision = Decision.objects.create(proposal=proposal, outcome=PARTIAL)
        AwardLine.objects.create(
            decision=decision, call_resource=call.call_resources.get(), amount=Decimal(50_000)
        )
    three = _queries(manager_client, call)

    assert one == three


def test_the_publish_refusal_names_fifty_undecided_proposals_and_counts_the_rest():
    """A call of 3,000 proposals has them all undecided at first: the message names 50."""
    from proposals.decisions.selectors.deciding import UNDECIDED_NAMED, DecisionSheet

    rows = [
        type("Row", (), {"saved": None, "ranking": type("R", (), {"reference": f"R-{i}"})()})()
        for i in range(UNDECIDED_NAMED + 1)
    ]
    sheet = DecisionSheet.__new__(DecisionSheet)
    object.__setattr__(sheet, "all_rows", rows)
    text = sheet.undecided_references
    assert text.startswith("R-0, R-1, ") and text.endswith(f"R-{UNDECIDED_NAMED - 1}, …")
    assert len(sheet.undecided) == UNDECIDED_NAMED + 1
