"""Cluster login names (PRODUCT §8): set by centre staff on a page and in the admin, or taken
from the identity provider's claim; unique on each cluster; never made from the email address.
Only the OpenID Connect provider is mocked."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.adapters import SocialAccountAdapter
from accounts.models import User
from allocations.enums import LoginSource
from allocations.models import ClusterLogin
from allocations.services.logins import cluster_login_set
from proposals.calls.models import AuditEntry
from tests.accounts.test_social import PROVIDERS, _response
from tests.allocation_factories import make_allocation
from tests.conftest import make_superuser, make_user
from tests.factories import make_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(pi, coi):
    return make_allocation(
        pi=pi,
        awarded={
            make_resource(): 1_000,
            make_resource("juwels", name="JUWELS", slurm_cluster="juwels"): 10,
        },
        members=[coi],
    )


def logins() -> list[tuple[str, str, str, str]]:
    return list(
        ClusterLogin.objects.order_by("cluster", "login").values_list(
            "user__email", "cluster", "login", "source"
        )
    )


def url(allocation) -> str:
    return reverse("allocation_cluster_logins", args=[allocation.pk])


# --- The service -----------------------------------------------------------------------------


def test_staff_set_change_and_remove_a_login(pi, manager):
    cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=manager)
    cluster_login_set(user=pi, cluster="jupiter", login="paula2", by=manager)
    assert logins() == [("pi@uni.example", "jupiter", "paula2", LoginSource.STAFF)]
    cluster_login_set(user=pi, cluster="jupiter", login="", by=manager)
    assert logins() == []
    assert list(
        AuditEntry.objects.filter(action="cluster_login.set")
        .order_by("pk")
        .values_list("actor__email", "before", "after")
    ) == [
        (
            "manager@centre.example",
            {"cluster": "jupiter", "login": ""},
            {"cluster": "jupiter", "login": "paula1"},
        ),
        (
            "manager@centre.example",
            {"cluster": "jupiter", "login": "paula1"},
            {"cluster": "jupiter", "login": "paula2"},
        ),
        (
            "manager@centre.example",
            {"cluster": "jupiter", "login": "paula2"},
            {"cluster": "jupiter", "login": ""},
        ),
    ]


def test_a_login_is_unique_on_its_cluster_only(pi, coi, manager):
    cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=manager)
    with pytest.raises(ValidationError) as refused:
        cluster_login_set(user=coi, cluster="jupiter", login="paula1", by=manager)
    assert refused.value.message_dict == {
        "login": ["paula1 is already the login of Paula Investigator on jupiter."]
    }
    cluster_login_set(user=coi, cluster="juwels", login="paula1", by=manager)
    assert logins() == [
        ("pi@uni.example", "jupiter", "paula1", "staff"),
        ("coi@lab.example", "juwels", "paula1", "staff"),
    ]


def test_the_database_refuses_a_second_holder_of_a_login(pi, coi):
    ClusterLogin.objects.create(user=pi, cluster="jupiter", login="paula1")
    with pytest.raises(IntegrityError):
        ClusterLogin.objects.create(user=coi, cluster="jupiter", login="paula1")


def test_only_staff_set_logins_and_only_valid_names(pi, manager):
    with pytest.raises(PermissionDenied):
        cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=pi)
    for bad in ["Paula", "1paula", "$(reboot)", "a" * 33, "pa ula"]:
        with pytest.raises(ValidationError) as refused:
            cluster_login_set(user=pi, cluster="jupiter", login=bad, by=manager)
        assert list(refused.value.message_dict) == ["login"]
    assert logins() == []


# --- The page --------------------------------------------------------------------------------


def table_rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_staff_see_every_member_on_every_cluster(client, allocation, manager, pi):
    cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=manager)
    client.force_login(manager)
    assert table_rows(client.get(url(allocation)).content.decode()) == [
        ["Paula Investigator pi@uni.example", "jupiter", "paula1", "Centre staff"],
        ["Paula Investigator pi@uni.example", "juwels", "none", "—"],
        ["Carl Coinvestigator coi@lab.example", "jupiter", "none", "—"],
        ["Carl Coinvestigator coi@lab.example", "juwels", "none", "—"],
    ]


def test_the_page_runs_the_same_queries_for_one_and_three_members(client, pi, manager):
    allocation = make_allocation(pi=pi)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as one:
        client.get(url(allocation))
    for n in range(2):
        person = make_user(f"m{n}@lab.example")
        allocation.members.create(user=person, added_by=pi)
        cluster_login_set(user=person, cluster="jupiter", login=f"m{n}", by=manager)
    with CaptureQueriesContext(connection) as three:
        response = client.get(url(allocation))
    assert len(response.context["rows"]) == 3
    assert len(one) == len(three)


def test_staff_set_a_login_on_the_page(client, allocation, manager, coi):
    client.force_login(manager)
    response = client.post(
        url(allocation), {"member": coi.pk, "cluster": "juwels", "login": " carl_c "}
    )
    assert response["Location"] == url(allocation)
    assert logins() == [("coi@lab.example", "juwels", "carl_c", "staff")]
    page = client.get(url(allocation)).content.decode()
    assert "The login of Carl Coinvestigator on juwels is saved." in page


def test_a_taken_login_is_refused_beside_the_field_and_kept(client, allocation, manager, pi, coi):
    cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=manager)
    client.force_login(manager)
    response = client.post(
        url(allocation), {"member": coi.pk, "cluster": "jupiter", "login": "paula1"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        '<p class="error" id="id_login_error">paula1 is already the login of Paula Investigator'
        " on jupiter.</p>" in html
    )
    assert 'value="paula1"' in html
    assert logins() == [("pi@uni.example", "jupiter", "paula1", "staff")]


def test_bad_input_is_answered_beside_its_field(client, allocation, manager, outsider):
    client.force_login(manager)
    response = client.post(
        url(allocation), {"member": outsider.pk, "cluster": "elsewhere", "login": "x\x00"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_member_error"' in html
    assert 'id="id_cluster_error"' in html
    assert 'id="id_login_error"' in html
    assert logins() == []


def test_the_pi_may_see_the_allocation_but_not_set_logins(client, allocation, pi, coi):
    client.force_login(pi)
    assert client.get(url(allocation)).status_code == 403
    refused = client.post(url(allocation), {"member": coi.pk, "cluster": "jupiter", "login": "x"})
    assert refused.status_code == 403
    assert logins() == []


def test_an_outsider_does_not_learn_the_allocation_exists(client, allocation, outsider):
    client.force_login(outsider)
    assert client.get(url(allocation)).status_code == 404
    assert client.post(url(allocation), {"login": "x"}).status_code == 404


def test_other_methods_are_refused(client, allocation, manager):
    client.force_login(manager)
    for method in (client.put, client.delete):
        assert method(url(allocation)).status_code == 405
    assert logins() == []


# --- The admin -------------------------------------------------------------------------------


def test_the_admin_sets_a_login_and_refuses_a_taken_one(client, pi, coi, manager):
    cluster_login_set(user=pi, cluster="jupiter", login="paula1", by=manager)
    operator = make_superuser("ops@centre.example")
    client.force_login(operator)
    add = reverse("admin:allocations_clusterlogin_add")
    taken = client.post(add, {"user": coi.pk, "cluster": "jupiter", "login": "paula1"})
    assert "Cluster login with this Slurm cluster and Login name already exists." in (
        taken.content.decode()
    )
    client.post(add, {"user": coi.pk, "cluster": "jupiter", "login": "carl"})
    assert list(
        ClusterLogin.objects.filter(user=coi).values_list("login", "source", "set_by__email")
    ) == [("carl", "staff", "ops@centre.example")]


# --- The identity provider's claim -----------------------------------------------------------


class FakeProvider:
    """Stands in for the identity provider: its configuration, the token and the userinfo."""

    def __init__(self, userinfo: dict) -> None:
        self.userinfo = userinfo

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def get(self, url: str, **kwargs) -> requests.Response:
        base = "https://login.helmholtz.example/oauth2"
        if url.endswith("/.well-known/openid-configuration"):
            return _response(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "userinfo_endpoint": f"{base}/userinfo",
                    "jwks_uri": f"{base}/jwks",
                }
            )
        assert url == f"{base}/userinfo"
        return _response(self.userinfo)

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        return _response({"access_token": "token-1", "token_type": "bearer", "expires_in": 60})

    def post(self, url: str, **kwargs) -> requests.Response:
        return self.request("POST", url, **kwargs)


def sign_in_with_provider(client, monkeypatch, userinfo: dict, capture) -> None:
    monkeypatch.setattr(
        SocialAccountAdapter, "get_requests_session", lambda self: FakeProvider(userinfo)
    )
    start = client.post("/accounts/oidc/helmholtz/login/?process=login")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    with capture(execute=True):
        client.get(f"/accounts/oidc/helmholtz/login/callback/?code=abc&state={state}")


USERINFO = {
    "sub": "helmholtz-42",
    "email": "nora@lab.example",
    "email_verified": True,
    "name": "Nora Newcomer",
    "hpc_username": "nnewcomer",
}


@pytest.fixture
def claim(settings):
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS
    settings.CLUSTER_LOGIN_CLAIM = "hpc_username"
    settings.CLUSTER_LOGIN_CLAIM_CLUSTERS = []
    make_resource()  # on jupiter
    make_resource("juwels", name="JUWELS", slurm_cluster="juwels")


def test_the_claim_names_the_login_on_every_cluster(
    client, claim, monkeypatch, django_capture_on_commit_callbacks
):
    sign_in_with_provider(client, monkeypatch, USERINFO, django_capture_on_commit_callbacks)
    assert logins() == [
        ("nora@lab.example", "jupiter", "nnewcomer", LoginSource.IDENTITY_PROVIDER),
        ("nora@lab.example", "juwels", "nnewcomer", LoginSource.IDENTITY_PROVIDER),
    ]


def test_the_claim_on_the_clusters_the_centre_names_and_never_over_staffs_or_anothers(
    client, claim, settings, monkeypatch, manager, django_capture_on_commit_callbacks
):
    settings.CLUSTER_LOGIN_CLAIM_CLUSTERS = ["jupiter", "juwels", "jureca"]
    other = make_user("other@lab.example")
    cluster_login_set(user=other, cluster="jureca", login="nnewcomer", by=manager)
    sign_in_with_provider(client, monkeypatch, USERINFO, django_capture_on_commit_callbacks)
    assert logins() == [
        ("nora@lab.example", "jupiter", "nnewcomer", "idp"),
        ("other@lab.example", "jureca", "nnewcomer", "staff"),
        ("nora@lab.example", "juwels", "nnewcomer", "idp"),
    ]
    nora = User.objects.get(email="nora@lab.example")
    cluster_login_set(user=nora, cluster="juwels", login="nora_staff", by=manager)
    client.logout()
    # The next sign-in brings a new name: the provider's logins follow, staff's stays.
    renamed = {**USERINFO, "hpc_username": "nnew2"}
    sign_in_with_provider(client, monkeypatch, renamed, django_capture_on_commit_callbacks)
    assert client.session["_auth_user_id"] == str(nora.pk)
    assert logins() == [
        ("nora@lab.example", "jupiter", "nnew2", "idp"),
        ("nora@lab.example", "jureca", "nnew2", "idp"),
        ("other@lab.example", "jureca", "nnewcomer", "staff"),
        ("nora@lab.example", "juwels", "nora_staff", "staff"),
    ]


def test_without_the_setting_or_with_a_bad_claim_nothing_is_taken(
    client, claim, settings, monkeypatch, django_capture_on_commit_callbacks
):
    sign_in_with_provider(
        client,
        monkeypatch,
        {**USERINFO, "hpc_username": "$(reboot)"},
        django_capture_on_commit_callbacks,
    )
    assert logins() == []
    client.logout()
    settings.CLUSTER_LOGIN_CLAIM = ""
    sign_in_with_provider(client, monkeypatch, USERINFO, django_capture_on_commit_callbacks)
    assert logins() == []
