"""The editing services: one locked transaction each, the version check, the deadline, rows."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from proposals.calls.models import Call, CallRole
from proposals.submission.enums import ProposalStatus
from proposals.submission.models import Proposal
from proposals.submission.services import editing
from proposals.submission.services.editing import (
    EditConflict,
    proposal_set_requests,
    proposal_set_scaling,
    proposal_update,
    proposal_update_technical,
)
from proposals.submission.services.lifecycle import DeadlinePassed
from tests.factories import make_call, make_resource
from tests.proposal_factories import add_member, make_proposal


def requests_of(proposal: Proposal) -> list[tuple[str, Decimal, str]]:
    return [
        (row.call_resource.resource.code, row.amount, row.justification)
        for row in proposal.requests.select_related("call_resource__resource").order_by(
            "call_resource__resource__code"
        )
    ]


def scaling_of(proposal: Proposal) -> list[tuple[int, Decimal, int]]:
    return [(row.gpus, row.seconds_per_step, row.position) for row in proposal.scaling.all()]


def two_resource_call() -> Call:
    booster = make_resource()
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    return make_call(
        resources=[
            (booster, Decimal(1_000_000), Decimal(10_000), Decimal(200_000)),
            (storage, Decimal(500), Decimal(1), Decimal(50)),
        ]
    )


def close(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    call.refresh_from_db()


def test_update_saves_fields_and_bumps_the_version(pi):
    proposal = make_proposal(make_call(), pi)

    saved = proposal_update(
        proposal=proposal,
        by=pi,
        expected_version=1,
        data={"title": "Sparse experts", "keywords": ["moe", "scaling"], "pi_country": "FR"},
    )

    proposal.refresh_from_db()
    assert saved.lock_version == 2
    assert (proposal.title, proposal.keywords, proposal.pi_country.code) == (
        "Sparse experts",
        ["moe", "scaling"],
        "FR",
    )
    assert (proposal.lock_version, proposal.updated_by) == (2, pi)


def test_accepted_coinvestigator_may_update(pi, coi):
    proposal = make_proposal(make_call(), pi)
    add_member(proposal, coi)

    proposal_update(proposal=proposal, by=coi, expected_version=1, data={"title": "By Carl"})

    proposal.refresh_from_db()
    assert (proposal.title, proposal.updated_by, proposal.lock_version) == ("By Carl", coi, 2)


def test_stale_version_raises_conflict_with_the_current_proposal(pi, coi):
    proposal = make_proposal(make_call(), pi)
    add_member(proposal, coi)
    proposal_update(proposal=proposal, by=coi, expected_version=1, data={"title": "Carl's"})

    with pytest.raises(EditConflict) as caught:
        proposal_update(proposal=proposal, by=pi, expected_version=1, data={"title": "Paula's"})

    conflict = caught.value
    current = Proposal.objects.get(pk=proposal.pk)
    assert (conflict.proposal.title, conflict.proposal.lock_version) == ("Carl's", 2)
    assert (conflict.updated_by, conflict.updated_at) == (coi, current.updated_at)
    assert (current.title, current.lock_version) == ("Carl's", 2)


@pytest.mark.parametrize("persona", ["outsider", "manager", "committee"])
def test_people_outside_the_team_may_not_update(request, pi, persona):
    call = make_call()
    proposal = make_proposal(call, pi, title="Kept")
    person = request.getfixturevalue(persona)
    if persona == "committee":
        CallRole.objects.create(call=call, role="committee", email=person.email, user=person)

    with pytest.raises(PermissionDenied):
        proposal_update(proposal=proposal, by=person, expected_version=1, data={"title": "X"})

    proposal.refresh_from_db()
    assert (proposal.title, proposal.lock_version) == ("Kept", 1)


def test_invited_but_not_accepted_coinvestigator_may_not_update(pi, coi):
    proposal = make_proposal(make_call(), pi)
    add_member(proposal, coi, status="invited")

    with pytest.raises(PermissionDenied):
        proposal_update(proposal=proposal, by=coi, expected_version=1, data={"title": "X"})


def test_submitted_proposal_is_not_edited(pi):
    proposal = make_proposal(make_call(), pi, title="Kept")
    Proposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.SUBMITTED, reference="JUP27-1-0001"
    )

    with pytest.raises(PermissionDenied):
        proposal_update(proposal=proposal, by=pi, expected_version=1, data={"title": "X"})


def test_after_the_deadline_the_draft_is_kept(pi):
    call = make_call()
    proposal = make_proposal(call, pi, title="Kept")
    close(call)

    with pytest.raises(DeadlinePassed) as caught:
        proposal_update(proposal=proposal, by=pi, expected_version=1, data={"title": "Late"})

    assert caught.value.code == "deadline"
    assert "this draft can no longer be changed" in caught.value.messages[0]
    assert "read-only" in caught.value.messages[0]
    proposal.refresh_from_db()
    assert (proposal.title, proposal.lock_version) == ("Kept", 1)


def test_deadline_is_strict_to_the_second(pi):
    call = make_call()
    proposal = make_proposal(call, pi)

    with pytest.raises(DeadlinePassed):
        proposal_update(
            proposal=proposal, by=pi, expected_version=1, data={"title": "X"}, now=call.closes_at
        )
    saved = proposal_update(
        proposal=proposal,
        by=pi,
        expected_version=1,
        data={"title": "In time"},
        now=call.closes_at - timedelta(seconds=1),
    )
    assert (saved.title, saved.lock_version) == ("In time", 2)


def test_acronym_used_in_the_call_is_refused_ignoring_case(pi, outsider):
    call = make_call()
    make_proposal(call, outsider, acronym="SPARSE-MOE")
    proposal = make_proposal(call, pi)

    with pytest.raises(ValidationError) as caught:
        proposal_update(
            proposal=proposal, by=pi, expected_version=1, data={"acronym": "sparse-moe"}
        )

    assert caught.value.message_dict == {
        "acronym": ["Another proposal to this call already uses this acronym."]
    }
    proposal.refresh_from_db()
    assert (proposal.acronym, proposal.lock_version) == ("", 1)


def test_same_acronym_in_another_call_is_fine(pi, outsider):
    make_proposal(make_call("JUPITER 2026-2"), outsider, acronym="SPARSE-MOE")
    proposal = make_proposal(make_call(), pi)

    saved = proposal_update(
        proposal=proposal, by=pi, expected_version=1, data={"acronym": "SPARSE-MOE"}
    )

    assert saved.acronym == "SPARSE-MOE"


def test_acronym_race_lost_at_the_database_becomes_a_field_error(pi, outsider):
    """Two saves pass the check at once; the unique index refuses the second."""
    call = make_call()
    make_proposal(call, outsider, acronym="SPARSE-MOE")
    proposal = make_proposal(call, pi)

    with (
        mock.patch.object(editing, "acronym_taken", return_value=False),
        pytest.raises(ValidationError) as caught,
    ):
        proposal_update(
            proposal=proposal, by=pi, expected_version=1, data={"acronym": "Sparse-MoE"}
        )

    assert caught.value.message_dict == {
        "acronym": ["Another proposal to this call already uses this acronym."]
    }
    proposal.refresh_from_db()
    assert (proposal.acronym, proposal.lock_version) == ("", 1)


def test_model_rules_are_checked(pi):
    proposal = make_proposal(make_call(), pi)

    with pytest.raises(ValidationError) as caught:
        proposal_update(
            proposal=proposal,
            by=pi,
            expected_version=1,
            data={"acronym": "JUP 27!", "field": "XX9"},
        )

    assert set(caught.value.message_dict) == {"acronym", "field"}


def test_unknown_field_is_a_programming_error(pi):
    proposal = make_proposal(make_call(), pi)

    with pytest.raises(ValueError, match="status"):
        proposal_update(proposal=proposal, by=pi, expected_version=1, data={"status": "awarded"})


def test_set_requests_creates_updates_and_removes_rows(pi):
    call = two_resource_call()
    booster, storage = call.call_resources.order_by("resource__code")
    proposal = make_proposal(call, pi)

    proposal_set_requests(
        proposal=proposal,
        by=pi,
        expected_version=1,
        requests=[
            {"call_resource": booster, "amount": Decimal(150_000), "justification": "300 runs"},
            {"call_resource": storage, "amount": Decimal(20), "justification": "Checkpoints"},
        ],
    )
    assert requests_of(proposal) == [
        ("jupiter-booster", Decimal("150000.00"), "300 runs"),
        ("project-storage", Decimal("20.00"), "Checkpoints"),
    ]

    saved = proposal_set_requests(
        proposal=proposal,
        by=pi,
        expected_version=2,
        requests=[
            {"call_resource": booster, "amount": Decimal(180_000), "justification": "360 runs"},
            {"call_resource": storage, "amount": None, "justification": ""},
        ],
    )
    assert requests_of(proposal) == [("jupiter-booster", Decimal("180000.00"), "360 runs")]
    assert (saved.lock_version, saved.updated_by) == (3, pi)


def test_set_requests_keeps_amounts_outside_the_limits_in_a_draft(pi):
    call = make_call()
    offer = call.call_resources.get()
    proposal = make_proposal(call, pi)

    proposal_set_requests(
        proposal=proposal,
        by=pi,
        expected_version=1,
        requests=[{"call_resource": offer, "amount": Decimal(900_000), "justification": ""}],
    )

    assert requests_of(proposal) == [("jupiter-booster", Decimal("900000.00"), "")]


def test_set_requests_refuses_a_resource_of_another_call(pi):
    call = make_call()
    other = make_call("JUWELS 2027-1").call_resources.get()
    proposal = make_proposal(call, pi)

    with pytest.raises(ValidationError) as caught:
        proposal_set_requests(
            proposal=proposal,
            by=pi,
            expected_version=1,
            requests=[{"call_resource": other, "amount": Decimal(10), "justification": ""}],
        )

    assert list(caught.value.message_dict) == ["requests"]
    assert "is not offered in this call" in caught.value.message_dict["requests"][0]
    assert requests_of(proposal) == []
    proposal.refresh_from_db()
    assert proposal.lock_version == 1


def test_set_requests_refuses_a_negative_amount(pi):
    call = make_call()
    offer = call.call_resources.get()
    proposal = make_proposal(call, pi)

    with pytest.raises(ValidationError) as caught:
        proposal_set_requests(
            proposal=proposal,
            by=pi,
            expected_version=1,
            requests=[{"call_resource": offer, "amount": Decimal(-5), "justification": ""}],
        )

    assert caught.value.message_dict == {
        f"request-{offer.pk}-amount": ["The amount cannot be negative."]
    }
    assert requests_of(proposal) == []


def test_set_scaling_replaces_rows_in_the_order_given(pi):
    proposal = make_proposal(make_call(), pi)
    proposal_set_scaling(
        proposal=proposal,
        by=pi,
        expected_version=1,
        points=[{"gpus": 4, "seconds_per_step": Decimal("9")}],
    )

    saved = proposal_set_scaling(
        proposal=proposal,
        by=pi,
        expected_version=2,
        points=[
            {"gpus": 64, "seconds_per_step": Decimal("1.25")},
            {"gpus": 8, "seconds_per_step": Decimal("9.5")},
            {"gpus": 512, "seconds_per_step": Decimal("0.2")},
        ],
    )

    assert scaling_of(proposal) == [
        (64, Decimal("1.2500"), 0),
        (8, Decimal("9.5000"), 1),
        (512, Decimal("0.2000"), 2),
    ]
    assert saved.lock_version == 3


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (
            [{"gpus": 8, "seconds_per_step": Decimal(1)}, {"gpus": 8, "seconds_per_step": 2}],
            "Two rows have 8 GPUs; keep one.",
        ),
        (
            [{"gpus": 0, "seconds_per_step": Decimal(1)}],
            "Every row needs at least 1 GPU and a time above zero.",
        ),
        (
            [{"gpus": 4, "seconds_per_step": Decimal(0)}],
            "Every row needs at least 1 GPU and a time above zero.",
        ),
    ],
)
def test_set_scaling_refuses_bad_rows_and_keeps_the_table(pi, points, message):
    proposal = make_proposal(make_call(), pi)
    proposal_set_scaling(
        proposal=proposal,
        by=pi,
        expected_version=1,
        points=[{"gpus": 4, "seconds_per_step": Decimal("9")}],
    )

    with pytest.raises(ValidationError) as caught:
        proposal_set_scaling(proposal=proposal, by=pi, expected_version=2, points=points)

    assert caught.value.message_dict == {"scaling": [message]}
    assert scaling_of(proposal) == [(4, Decimal("9.0000"), 0)]


def test_technical_section_is_one_version(pi):
    proposal = make_proposal(make_call(), pi)

    saved = proposal_update_technical(
        proposal=proposal,
        by=pi,
        expected_version=1,
        data={"codes": "JAX 0.4", "wall_time": "12 hours"},
        points=[
            {"gpus": 16, "seconds_per_step": Decimal("3.1")},
            {"gpus": 32, "seconds_per_step": Decimal("1.6")},
        ],
    )

    proposal.refresh_from_db()
    assert (proposal.codes, proposal.wall_time, proposal.lock_version) == (
        "JAX 0.4",
        "12 hours",
        2,
    )
    assert saved.lock_version == 2
    assert scaling_of(proposal) == [(16, Decimal("3.1000"), 0), (32, Decimal("1.6000"), 1)]


def test_technical_section_refused_as_a_whole(pi):
    """A bad scaling table leaves the section's fields unsaved too."""
    proposal = make_proposal(make_call(), pi, codes="PyTorch")

    with pytest.raises(ValidationError):
        proposal_update_technical(
            proposal=proposal,
            by=pi,
            expected_version=1,
            data={"codes": "JAX"},
            points=[
                {"gpus": 8, "seconds_per_step": Decimal(1)},
                {"gpus": 8, "seconds_per_step": Decimal(2)},
            ],
        )

    proposal.refresh_from_db()
    assert (proposal.codes, proposal.lock_version) == ("PyTorch", 1)
