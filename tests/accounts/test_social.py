"""ORCID and a generic OpenID Connect provider, offered only when configured (PRODUCT §1).

Only the providers themselves are mocked: the token and record requests go through the social
adapter's requests session, which the ORCID test replaces with canned answers.
"""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.core import mail

from accounts.adapters import SocialAccountAdapter
from accounts.models import User

ORCID_ID = "0000-0002-1825-0097"
PROVIDERS = {
    "orcid": {"APPS": [{"client_id": "APP-ALLOT", "secret": "orcid-secret"}]},
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "helmholtz",
                "name": "Helmholtz ID",
                "client_id": "allot",
                "secret": "oidc-secret",
                "settings": {"server_url": "https://login.helmholtz.example/oauth2"},
            }
        ]
    },
}


@pytest.fixture
def providers(settings):
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS


def test_no_provider_buttons_when_none_is_configured(client, db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    html = client.get("/accounts/login/").content.decode()
    assert "ORCID" not in html
    assert "Helmholtz ID" not in html
    assert "provider-list" not in html


def test_configured_providers_are_offered_on_sign_in_and_sign_up(client, db, providers):
    for url in ("/accounts/login/", "/accounts/signup/"):
        html = client.get(url).content.decode()
        assert "Continue with ORCID" in html
        assert 'href="/accounts/orcid/login/?process=login"' in html
        assert "Continue with Helmholtz ID" in html
        assert 'href="/accounts/oidc/helmholtz/login/?process=login"' in html


def _response(payload: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["content-type"] = "application/json"
    response._content = json.dumps(payload).encode()
    return response


class FakeOrcid:
    """Stands in for orcid.org: answers the token request and the public record request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        self.calls.append((method, url))
        return _response(
            {
                "access_token": "token-123",
                "token_type": "bearer",
                "expires_in": 631138518,
                "scope": "/authenticate",
                "name": "Josiah Carberry",
                "orcid": ORCID_ID,
            }
        )

    def get(self, url: str, **kwargs) -> requests.Response:
        self.calls.append(("GET", url))
        return _response(
            {
                "orcid-identifier": {"path": ORCID_ID, "uri": f"https://orcid.org/{ORCID_ID}"},
                "person": {
                    "name": {
                        "given-names": {"value": "Josiah"},
                        "family-name": {"value": "Carberry"},
                    },
                    "emails": {"email": [{"email": "josiah@brown.example", "verified": True}]},
                },
            }
        )


def test_orcid_sign_in_creates_an_account_linked_to_the_id(
    client, db, providers, monkeypatch, django_capture_on_commit_callbacks
):
    fake = FakeOrcid()
    monkeypatch.setattr(SocialAccountAdapter, "get_requests_session", lambda self: fake)

    start = client.post("/accounts/orcid/login/?process=login")
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    assert (authorize.netloc, authorize.path) == ("orcid.org", "/oauth/authorize")
    state = parse_qs(authorize.query)["state"][0]

    with django_capture_on_commit_callbacks(execute=True):
        done = client.get(f"/accounts/orcid/login/callback/?code=abc&state={state}")

    # The address ORCID gives is not taken as verified: it must be confirmed like any other.
    assert done["Location"] == "/accounts/confirm-email/"
    assert [message.to for message in mail.outbox] == [["josiah@brown.example"]]

    assert [url for _method, url in fake.calls] == [
        "https://pub.orcid.org/oauth/token",
        f"https://pub.orcid.org/v3.0/{ORCID_ID}/record",
    ]
    account = SocialAccount.objects.get(provider="orcid")
    assert account.uid == ORCID_ID
    user = User.objects.get(pk=account.user_id)
    assert (user.email, user.orcid, user.full_name) == (
        "josiah@brown.example",
        ORCID_ID,
        "Josiah Carberry",
    )
