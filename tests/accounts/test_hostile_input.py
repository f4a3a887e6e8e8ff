"""Bad input on the account pages (issue 11): a name of invisible characters, a direction
override or a NUL is refused beside its field and kept; an address with more than 64
characters before the @ is refused on sign-up and when adding an address; a name that comes
from an identity provider is made safe, since nobody can be asked to fix it."""

import html
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.adapters import SocialAccountAdapter
from accounts.models import User
from tests.accounts.conftest import sign_in
from tests.accounts.test_social import PROVIDERS, FakeOrcid, _response
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/profile/"
PROFILE = {
    "full_name": "Nina Newcomer",
    "affiliation": "Uni Example",
    "country": "DE",
    "expertise": ["PE6"],
    "keywords": "LLM",
    "time_zone": "Europe/Berlin",
}
LONG_LOCAL = "a" * 65 + "@uni.example"
LOCAL_MESSAGE = "The part before the @ can have at most 64 characters; this one has 65."


INVISIBLE = "Use visible letters or digits: this holds only invisible characters."


def direction(character: str) -> str:
    return (
        f"Remove the text direction character {character}: it makes the text read differently "
        "from how it is stored."
    )


def control(code: str) -> str:
    return f"Remove the invisible control character {code}: it cannot be stored."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "\u200b\u200b", INVISIBLE),
        ("full_name", "   \u3164  ", INVISIBLE),
        ("full_name", "Nina \u202eNewcomer", direction("U+202E RIGHT-TO-LEFT OVERRIDE")),
        ("full_name", "Nina \u2067Newcomer", direction("U+2067 RIGHT-TO-LEFT ISOLATE")),
        ("full_name", "Nina\x00Newcomer", control("U+0000")),
        ("full_name", "Nina\x1bNewcomer", control("U+001B")),
        ("full_name", "N" * 201, "Keep this to 200 characters or fewer; it has 201."),
        ("affiliation", "Uni\u202dExample", direction("U+202D LEFT-TO-RIGHT OVERRIDE")),
        ("orcid", "0000\x00", control("U+0000")),
        (
            "keywords",
            "LLM\x00",
            "Remove the invisible control character U+0000 from this text: it cannot be stored.",
        ),
    ],
)
def test_the_profile_refuses_beside_the_field_and_keeps_what_was_typed(
    client, pi, field, value, message
):
    client.force_login(pi)

    response = client.post(URL, {**PROFILE, field: value})

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert html.escape(value) in page
    assert User.objects.get(pk=pi.pk).full_name == "Paula Investigator"


def test_a_name_in_any_script_is_kept(client, pi):
    client.force_login(pi)

    client.post(URL, {**PROFILE, "full_name": "  محمد   عبد الله "})

    assert User.objects.get(pk=pi.pk).full_name == "محمد عبد الله"


def test_sign_up_refuses_a_long_local_part_beside_the_field(client):
    response = client.post(
        "/accounts/signup/", {"email": LONG_LOCAL, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [LOCAL_MESSAGE]}
    assert f'value="{LONG_LOCAL}"' in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_takes_64_characters_before_the_at(client):
    email = "a" * 64 + "@uni.example"

    response = client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert User.objects.get().email == email


def test_a_new_address_with_a_long_local_part_is_refused(client, pi):
    sign_in(client, pi.email, PASSWORD)

    response = client.post("/accounts/email/", {"action_add": "", "email": LONG_LOCAL})

    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [LOCAL_MESSAGE]}
    assert list(EmailAddress.objects.filter(user=pi).values_list("email", flat=True)) == [pi.email]


class HostileOrcid(FakeOrcid):
    """orcid.org answering with a name that holds a direction override and a NUL."""

    email = "josiah@brown.example"

    def get(self, url: str, **kwargs):
        self.calls.append(("GET", url))
        return _response(
            {
                "orcid-identifier": {"path": "0000-0002-1825-0097"},
                "person": {
                    "name": {
                        "given-names": {"value": "Josiah\u202e"},
                        "family-name": {"value": " Carberry\x00"},
                    },
                    "emails": {"email": [{"email": self.email, "verified": True}]},
                },
            }
        )


class HostileOrcidAddress(HostileOrcid):
    email = "josiah\x00@brown.example"


def orcid_sign_in(client, settings, monkeypatch, capture, fake) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS
    monkeypatch.setattr(SocialAccountAdapter, "get_requests_session", lambda self: fake)
    start = client.post("/accounts/orcid/login/?process=login")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    with capture(execute=True):
        done = client.get(f"/accounts/orcid/login/callback/?code=abc&state={state}")
    assert done.status_code == 302


def test_a_name_from_orcid_loses_its_control_and_direction_characters(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    fake = HostileOrcid()
    orcid_sign_in(client, settings, monkeypatch, django_capture_on_commit_callbacks, fake)

    account = SocialAccount.objects.get()
    assert User.objects.get(pk=account.user_id).full_name == "Josiah Carberry"
    assert "\x00" not in str(account.extra_data)


def test_an_address_from_orcid_with_a_nul_is_not_taken(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    fake = HostileOrcidAddress()
    orcid_sign_in(client, settings, monkeypatch, django_capture_on_commit_callbacks, fake)

    stored = [*EmailAddress.objects.values_list("email", flat=True)]
    stored += User.objects.values_list("email", flat=True)
    assert not [email for email in stored if "\x00" in email]


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/orcid/login/",
        "/accounts/orcid/login/callback/?code=abc&state=x",
        "/accounts/oidc/nobody/login/",
        "/accounts/oidc/nobody/login/callback/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_provider_that_is_not_set_up_is_not_found(client, settings, url, method):
    settings.SOCIALACCOUNT_PROVIDERS = {}

    assert getattr(client, method)(url).status_code == 404
