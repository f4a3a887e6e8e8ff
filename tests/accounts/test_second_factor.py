"""PRODUCT §1.1: every call-manager and superuser power, reading included, needs a session that
signed in with its second factor; the Django admin signs in through the same login.

A manager whose session has no second factor (signed in with the password only, before
their authenticator existed, or without one) is a manager in name only: the manager pages
send them to confirm with their authenticator, and every other page treats them as anyone
else, so they read no proposal, review, ranking or allocation that is not theirs.
"""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from proposals.review.enums import ReviewKind
from tests.conftest import force_login_without_second_factor, make_manager, make_superuser
from tests.factories import make_call
from tests.proposals.test_ranking import in_review, scientific, submitted_proposal

pytestmark = pytest.mark.django_db

CONFIDENTIAL = "CONFIDENTIAL-FOR-THE-COMMITTEE-7731"
COMMENT = "COMMENT-TO-THE-APPLICANT-5520"


@pytest.fixture
def world(pi, reviewer):
    call = make_call()
    proposal = submitted_proposal(call, pi, "HIDDEN-MGR")
    in_review(call)
    review = scientific(proposal, reviewer, 4, 3, comment=COMMENT, confidential=CONFIDENTIAL)
    assert review.kind == ReviewKind.SCIENTIFIC
    return proposal


def _pages(proposal) -> dict[str, str]:
    call = proposal.call
    return {
        "ranking": reverse("call_ranking", args=[call.pk]),
        "ranking CSV": reverse("call_ranking_csv", args=[call.pk]),
        "ranking XLSX": reverse("call_ranking_xlsx", args=[call.pk]),
        "reviews CSV": reverse("call_reviews_csv", args=[call.pk]),
        "panel book": reverse("call_book", args=[call.pk]),
        "dashboard": reverse("manage_call_dashboard", args=[call.pk]),
        "statistics": reverse("manage_statistics"),
        "proposals XLSX": reverse("manage_call_proposals_xlsx", args=[call.pk]),
        "decisions CSV": reverse("manage_call_decisions_csv", args=[call.pk]),
        "proposal": reverse("proposal_detail", args=[proposal.pk]),
        "reviews": reverse("proposal_reviews", args=[proposal.pk]),
        "decisions": reverse("manage_decisions", args=[call.pk]),
        "proposals of the call": reverse("manage_call_proposals", args=[call.pk]),
        "assignment": reverse("manage_assignment", args=[call.pk]),
        "allocations": reverse("manage_allocations"),
        "audit": reverse("call_audit", args=[call.pk]),
        "outbox": reverse("outbox_list"),
    }


def _reads(response) -> str:
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize("has_authenticator", [True, False])
def test_a_manager_without_the_second_factor_reads_nothing_of_a_manager(
    client, world, has_authenticator
):
    manager = make_manager("password-only@centre.example", with_mfa=has_authenticator)
    force_login_without_second_factor(client, manager)

    for name, url in _pages(world).items():
        response = client.get(url)
        assert response.status_code in {302, 403, 404}, name
        body = _reads(response)
        assert CONFIDENTIAL not in body and COMMENT not in body, name
        assert world.title not in body, name
        if response.status_code == 302:
            target = "mfa_reauthenticate" if has_authenticator else "mfa_activate_totp"
            assert response["Location"] == f"{reverse(target)}?{urlencode({'next': url})}", name


def test_the_same_manager_with_the_second_factor_reads_it_all(client, world, manager):
    client.force_login(manager)

    ranking = client.get(reverse("call_ranking", args=[world.call.pk]))
    reviews = client.get(reverse("proposal_reviews", args=[world.pk]))

    assert ranking.status_code == reviews.status_code == 200
    assert world.reference in ranking.content.decode()
    assert CONFIDENTIAL in reviews.content.decode()


def test_the_menu_offers_to_confirm_instead_of_the_manager_pages(client, world):
    force_login_without_second_factor(client, make_manager("password-only@centre.example"))

    html = client.get(reverse("call_list")).content.decode()

    assert "Manage calls (confirm with your authenticator)" in html
    assert reverse("outbox_list") not in html


# --- The Django admin ---------------------------------------------------------------------------


def test_the_admin_login_is_allauths_login(client):
    response = client.get(reverse("admin:login"), {"next": "/admin/accounts/user/"})

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('account_login')}?{urlencode({'next': '/admin/accounts/user/'})}"
    )


def test_the_admin_login_form_signs_nobody_in(client, db):
    operator = make_superuser("root@centre.example")

    response = client.post(
        reverse("admin:login"), {"username": operator.email, "password": "correct-horse-battery-42"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(reverse("admin:index")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_superuser_without_the_second_factor_confirms_it_before_the_admin(client, db):
    force_login_without_second_factor(client, make_superuser("root@centre.example"))

    index = client.get(reverse("admin:index"))
    assert index.status_code == 302
    assert index["Location"] == f"{reverse('admin:login')}?next=/admin/"
    login = client.get(index["Location"])
    assert login["Location"] == f"{reverse('mfa_reauthenticate')}?{urlencode({'next': '/admin/'})}"
    users = client.get("/admin/accounts/user/")
    assert users.status_code == 302
    assert "root@centre.example" not in users.content.decode()


def test_a_superuser_with_the_second_factor_uses_the_admin(client, db):
    client.force_login(make_superuser("root@centre.example"))

    assert client.get(reverse("admin:login"))["Location"] == reverse("admin:index")
    assert "root@centre.example" in client.get("/admin/accounts/user/").content.decode()


def test_someone_who_is_no_staff_member_gets_403_from_the_admin_login(client, pi):
    client.force_login(pi)

    assert client.get(reverse("admin:login")).status_code == 403
