"""The guards other features use: profile_complete_required and manager_required."""

import pytest
from django.contrib.messages import get_messages

from accounts.models import User
from tests.accounts.conftest import sign_in, totp_code
from tests.conftest import PASSWORD, make_manager, make_user

pytestmark = pytest.mark.urls("tests.accounts.urls")


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestProfileCompleteRequired:
    def test_complete_profile_gets_through(self, client, pi):
        client.force_login(pi)
        response = client.get("/test/proposal-start/?call=3")
        assert response.status_code == 200
        assert response.content == b"starting a proposal"

    def test_anonymous_is_sent_to_sign_in(self, client, db):
        response = client.get("/test/proposal-start/")
        assert response["Location"] == "/accounts/login/?next=/test/proposal-start/"

    def test_incomplete_profile_is_sent_to_the_profile_and_back(self, client, db):
        user = make_user("new@uni.example", complete=False)
        User.objects.filter(pk=user.pk).update(full_name="")
        client.force_login(user)
        response = client.get("/test/proposal-start/?call=3")
        assert response.status_code == 302
        assert response["Location"] == "/profile/?next=%2Ftest%2Fproposal-start%2F%3Fcall%3D3"
        assert _messages(response) == [
            "Please complete your profile first. Still missing: full name, affiliation, "
            "country and at least one field of expertise."
        ]
        page = client.get(response["Location"])
        assert 'name="next" value="/test/proposal-start/?call=3"' in page.content.decode()

    def test_a_post_comes_back_to_the_page_that_held_the_form(self, client, db):
        user = make_user("new@uni.example", complete=False)
        client.force_login(user)
        response = client.post("/test/proposal-start/", HTTP_REFERER="http://testserver/calls/3/")
        assert response["Location"] == "/profile/?next=http%3A%2F%2Ftestserver%2Fcalls%2F3%2F"
        response = client.post(
            "/test/proposal-start/", HTTP_REFERER="https://evil.example/calls/3/"
        )
        assert response["Location"] == "/profile/"


class TestManagerRequired:
    def test_anonymous_is_sent_to_sign_in(self, client, db):
        response = client.get("/test/managed/")
        assert response["Location"] == "/accounts/login/?next=/test/managed/"

    def test_other_people_get_403(self, client, pi):
        client.force_login(pi)
        assert client.get("/test/managed/").status_code == 403

    def test_manager_with_totp_gets_through(self, client, manager):
        client.force_login(manager)
        assert client.get("/test/managed/").status_code == 200

    # Transactional, as a request is in production: allauth announces the new authenticator
    # when its transaction commits, inside the request, and the session records it then.
    @pytest.mark.django_db(transaction=True)
    def test_manager_without_totp_sets_it_up_then_gets_through(self, client):
        manager = make_manager(with_mfa=False)
        assert sign_in(client, manager.email, PASSWORD).status_code == 302

        response = client.get("/test/managed/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/totp/activate/?next=%2Ftest%2Fmanaged%2F"
        assert _messages(response)[-1] == (
            "Call managers must turn on two-factor authentication before managing calls."
        )

        # allauth asks for the password again before adding an authenticator, even right
        # after signing in.
        response = client.get(response["Location"])
        assert response["Location"] == (
            "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
            "%3Fnext%3D%252Ftest%252Fmanaged%252F"
        )
        response = client.post(response["Location"], {"password": PASSWORD})
        assert response["Location"] == "/accounts/2fa/totp/activate/?next=%2Ftest%2Fmanaged%2F"

        page = client.get("/accounts/2fa/totp/activate/")
        assert page.status_code == 200
        secret = client.session["mfa.totp.secret"]
        html = page.content.decode()
        assert secret in html
        assert 'class="qr-code"' in html
        # a phone offers its digits keyboard and the code from the authenticator
        assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html

        wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
        assert wrong.status_code == 200
        assert wrong.context["form"].errors["code"] == ["Incorrect code."]

        # The code just proved the authenticator: the session has passed the second factor.
        response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/recovery-codes/"
        assert client.get("/test/managed/").status_code == 200
        codes = client.get("/accounts/2fa/recovery-codes/")
        assert codes.status_code == 200
        assert len(codes.context["unused_codes"]) == 10
        # ... and the codes page leads back to where the manager was going (issue 14, 7)
        assert (
            'id="continue" href="/test/managed/">I have saved them: continue where I was going'
        ) in codes.content.decode()
