"""Each action of PRODUCT §9 leaves its row in the audit trail, done over HTTP as people do it:
who, what, about which subject and person, before → after."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import User
from proposals.calls.enums import CallRoleKind
from proposals.calls.models import AuditEntry, Call
from proposals.review.enums import ConflictReason, ConflictStatus
from proposals.review.models import Conflict
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import add_call_role, complete_proposal, make_call_closing
from tests.proposals.helpers import call_post_data, edit_post_data
from tests.proposals.reviewing_factories import accepted, assign, signed_in, submitted_proposal
from tests.second_factor import sign_in_with_totp

pytestmark = pytest.mark.django_db


def rows(action: str) -> list[tuple]:
    return [
        (e.actor_name, e.subject_name, e.person_name, e.before, e.after)
        for e in AuditEntry.objects.filter(action=action).order_by("id")
    ]


@pytest.fixture
def call(db) -> Call:
    return make_call_closing()


def test_submit_take_back_and_withdraw(call, pi):
    proposal = complete_proposal(call, pi)
    client = signed_in(pi)

    assert client.post(reverse("proposal_submit", args=[proposal.pk])).status_code == 302
    assert client.post(reverse("proposal_unsubmit", args=[proposal.pk])).status_code == 302
    client.post(reverse("proposal_submit", args=[proposal.pk]))
    assert (
        client.post(
            reverse("proposal_withdraw", args=[proposal.pk]), {"confirm": "yes"}
        ).status_code
        == 302
    )

    name = "JUP27-1-0001"
    assert (
        rows("proposal.submitted")
        == [
            (
                "Paula Investigator",
                name,
                "",
                {"status": "Draft"},
                {"status": "Submitted", "reference": name},
            )
        ]
        * 2
    )
    assert rows("proposal.taken_back") == [
        ("Paula Investigator", name, "", {"status": "Submitted"}, {"status": "Draft"})
    ]
    assert rows("proposal.withdrawn") == [
        ("Paula Investigator", name, "", {"status": "Submitted"}, {"status": "Withdrawn"})
    ]
    assert set(AuditEntry.objects.values_list("call", flat=True)) == {call.pk}


def test_manual_assignment_removal_and_reopening(call, pi, reviewer, manager):
    proposal = submitted_proposal(call, pi)
    add_call_role(call, reviewer, CallRoleKind.REVIEWER)
    client = signed_in(manager)

    client.post(
        reverse("review_assign", args=[proposal.pk]),
        {"reviewer": reviewer.email, "kind": "scientific"},
    )
    review = proposal.reviews.get()
    client.post(reverse("review_remove", args=[review.pk]))

    subject = f"Scientific review of {proposal.reference} by Rita Reviewer"
    [(actor, name, person, before, after)] = rows("review.assigned")
    assert (actor, name, person, before) == ("Marta Manager", subject, "Rita Reviewer", {})
    assert (after["proposal"], after["reviewer"], after["state"]) == (
        proposal.reference,
        "Rita Reviewer",
        "Invited",
    )
    assert rows("review.removed") == [
        (
            "Marta Manager",
            subject,
            "Rita Reviewer",
            {"state": "Invited"},
            {"state": "Removed by a manager"},
        )
    ]


def test_reopening_a_submitted_review(call, pi, reviewer, manager):
    from proposals.review.services.reviewing import review_submit
    from tests.proposals.reviewing_factories import criteria_ids

    proposal = submitted_proposal(call, pi)
    review = accepted(proposal, reviewer)
    excellence, feasibility = criteria_ids(call)
    review_submit(
        review=review,
        by=reviewer,
        expected_version=review.lock_version,
        data={"comment_to_applicant": "Fine.", "recommendation": "fund"},
        scores={excellence: 5, feasibility: 4},
    )

    signed_in(manager).post(reverse("review_reopen", args=[review.pk]))

    assert rows("review.reopened") == [
        (
            "Marta Manager",
            f"Scientific review of {proposal.reference} by Rita Reviewer",
            "Rita Reviewer",
            {"state": "Submitted"},
            {"state": "Accepted"},
        )
    ]


def test_applying_the_suggestion(call, pi, manager):
    from django.core import signing

    from proposals.review.views.assignment import SUGGESTION_SALT

    proposal = submitted_proposal(call, pi)
    ada = make_user("ada@review.example", full_name="Ada Lovelace", affiliation="Ada Institute")
    add_call_role(call, ada, CallRoleKind.REVIEWER)
    signed = signing.dumps(
        {"call": call.pk, "pairs": [[proposal.pk, ada.pk]]}, salt=SUGGESTION_SALT, compress=True
    )

    signed_in(manager).post(reverse("assignment_apply", args=[call.pk]), {"suggestion": signed})

    [(actor, name, person, _before, after)] = rows("review.suggestion_applied")
    assert (actor, name, person, after["state"]) == (
        "Marta Manager",
        f"Scientific review of {proposal.reference} by Ada Lovelace",
        "Ada Lovelace",
        "Invited",
    )


def test_conflicts_detected_confirmed_dismissed_and_declared(call, pi, coi, reviewer, manager):
    proposal = submitted_proposal(call, pi)
    same = make_user("same@uni.example", full_name="Sam Same", affiliation=pi.affiliation)
    add_call_role(call, same, CallRoleKind.REVIEWER)
    client = signed_in(manager)

    client.post(reverse("manage_conflicts", args=[call.pk]))
    [(actor, name, person, _b, after)] = rows("conflict.detected")
    assert (actor, person, after["reason"]) == (
        "Marta Manager",
        "Sam Same",
        "Same affiliation as the PI or a team member",
    )
    assert name == f"Sam Same × {proposal.reference}: Same affiliation as the PI or a team member"

    detected = Conflict.objects.get()
    client.post(reverse("conflict_decide", args=[detected.pk]), {"decision": "confirm"})
    other = Conflict.objects.create(
        proposal=proposal,
        reviewer=coi,
        reason=ConflictReason.AFFILIATION,
        status=ConflictStatus.DETECTED,
    )
    client.post(reverse("conflict_decide", args=[other.pk]), {"decision": "dismiss"})
    assert rows("conflict.confirmed") == [
        (
            "Marta Manager",
            name,
            "Sam Same",
            {"status": "Detected, to be checked"},
            {"status": "Confirmed", "reviews removed": "0"},
        )
    ]
    assert [r[2:] for r in rows("conflict.dismissed")] == [
        (
            "Carl Coinvestigator",
            {"status": "Detected, to be checked"},
            {"status": "Dismissed", "reviews removed": "0"},
        )
    ]

    assign(proposal, reviewer)
    signed_in(reviewer).post(
        reverse("conflict_declare", args=[proposal.pk]), {"detail": "My student."}
    )
    [(actor, _name, person, _b, after)] = rows("conflict.declared")
    assert (actor, person, after) == (
        "Rita Reviewer",
        "Rita Reviewer",
        {"detail": "My student.", "reviews declined": "1"},
    )


def test_call_created_edited_next_cycle_and_archived(manager):
    client = signed_in(manager)
    client.post(reverse("manage_call_create"), call_post_data())
    call = Call.objects.get()
    [(actor, name, _p, before, after)] = rows("call.created")
    assert (actor, name, before, after["code"]) == ("Marta Manager", call.code, {}, call.code)

    client.post(
        reverse("manage_call_edit", args=[call.pk]), edit_post_data(call, name="Renamed call")
    )
    client.post(
        reverse("manage_call_edit", args=[call.pk]), edit_post_data(call, name="Renamed call")
    )
    assert [(r[3], r[4]) for r in rows("call.edited")] == [
        ({"name": call.name}, {"name": "Renamed call"})
    ]  # the second, unchanged save records nothing

    client.post(reverse("manage_call_next_cycle", args=[call.pk]))
    [(_a, next_name, _p, _b, after)] = rows("call.next_cycle")
    assert after["copied from"] == call.code and next_name == after["code"] != call.code

    client.post(reverse("manage_call_archive", args=[call.pk]), {"archive": "1"})
    client.post(reverse("manage_call_archive", args=[call.pk]), {"archive": "0"})
    assert [r[:2] for r in rows("call.archived")] == [("Marta Manager", call.code)]
    assert [r[:2] for r in rows("call.unarchived")] == [("Marta Manager", call.code)]


def test_call_roles_given_and_taken_away(manager, reviewer):
    call = make_call()
    client = signed_in(manager)

    client.post(
        reverse("manage_call_people", args=[call.pk]),
        {"email": reviewer.email, "role": "reviewer", "max_load": "6"},
    )
    role = call.roles.get()
    client.post(reverse("manage_call_role_remove", args=[call.pk, role.pk]))

    values = {"email": reviewer.email, "role": "Reviewer", "maximum load": "6"}
    subject = f"{reviewer.email} · Reviewer · {call.code}"
    assert rows("role.added") == [("Marta Manager", subject, "Rita Reviewer", {}, values)]
    assert rows("role.removed") == [("Marta Manager", subject, "Rita Reviewer", values, {})]


def test_the_call_managers_group_changed_in_the_admin(client, admin_user, outsider):
    group = Group.objects.get_or_create(name="Call managers")[0]
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[outsider.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        groups=[group.pk],
        user_permissions=[],
        expertise=[],
        keywords="",
        last_login_0="",
        last_login_1="",
        date_joined_0="2026-01-01",
        date_joined_1="10:00:00",
    )
    data = {k: (v if not isinstance(v, bool) else ("on" if v else "")) for k, v in data.items()}
    data = {k: v for k, v in data.items() if v != ""}

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert rows("manager.added") == [
        (
            "Olga Operator",
            "Otto Outsider",
            "Otto Outsider",
            {"roles": ""},
            {"roles": "Call managers"},
        )
    ]


def test_sign_ins_of_managers_record_the_second_factor(client, manager, pi):
    from tests.accounts.conftest import sign_in
    from tests.conftest import PASSWORD, make_manager

    sign_in_with_totp(manager)
    sign_in(client, pi.email, PASSWORD)
    nomfa = make_manager("nomfa@centre.example", with_mfa=False)
    sign_in(client.__class__(), nomfa.email, PASSWORD)

    yes, no = ({"to": "site", "second factor": answer} for answer in ("yes", "no"))
    # The applicant's sign-in is not recorded; the manager's without an authenticator is.
    assert [(r[0], r[2], r[4]) for r in rows("sign_in")] == [
        ("Marta Manager", "Marta Manager", yes),
        ("Marta Manager", "Marta Manager", no),
    ]
    assert list(AuditEntry.objects.order_by("id").values_list("actor", flat=True)) == [
        manager.pk,
        nomfa.pk,
    ]


def test_an_admin_sign_in_is_recorded_as_such(client, admin_user):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.accounts.conftest import totp_code
    from tests.conftest import PASSWORD

    Authenticator.objects.filter(user=admin_user).delete()
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    client.post(
        "/accounts/login/",
        {"login": admin_user.email, "password": PASSWORD, "next": "/admin/"},
    )
    for _attempt in range(2):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        if response.status_code == 302:
            break

    assert response["Location"] == "/admin/"
    assert rows("sign_in") == [
        (
            "Olga Operator",
            "Olga Operator",
            "Olga Operator",
            {},
            {"to": "admin", "second factor": "yes"},
        )
    ]


def test_the_database_refuses_to_change_or_delete_an_entry(manager):
    call = make_call()
    entry = AuditEntry.objects.get(action="call.created") if AuditEntry.objects.exists() else None
    if entry is None:
        from proposals.calls.audit import audit_record

        entry = audit_record(subject=call, action="call.archived", actor=manager, call=call)
    for sql in (
        "UPDATE proposals_auditentry SET action = 'x' WHERE id = %s",
        "DELETE FROM proposals_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError if connection.vendor == "postgresql" else Exception),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    entry.refresh_from_db()
    assert entry.action != "x"


def test_deleting_a_person_keeps_their_name_in_the_trail(manager):
    call = make_call()
    from proposals.calls.audit import audit_record

    entry = audit_record(subject=call, action="call.archived", actor=manager, call=call)
    User.objects.filter(pk=manager.pk).delete()

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name) == (None, "Marta Manager")
