"""Sign-up by email with mandatory verification (PRODUCT §1)."""

import pytest
from django.core import mail

from accounts.models import User
from notifications.enums import MessageStatus
from notifications.models import OutboxMessage
from tests.accounts.conftest import link_in, sign_in
from tests.conftest import PASSWORD

EMAIL = "nina@uni.example"


@pytest.fixture
def signed_up(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/", {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
        )
    return response


def test_signup_page_explains_the_steps(client, db):
    html = client.get("/accounts/signup/").content.decode()
    assert "Open the link we email you to confirm the address." in html
    assert 'class="narrow card allauth"' in html


def test_signup_sends_one_confirmation_through_the_outbox(signed_up):
    assert signed_up.status_code == 302
    assert signed_up["Location"] == "/accounts/confirm-email/"
    assert [message.to for message in mail.outbox] == [[EMAIL]]
    assert mail.outbox[0].subject == "[Allot] Confirm your email address"
    row = OutboxMessage.objects.get()
    assert (row.recipient, row.kind, row.status) == (
        EMAIL,
        "account-email_confirmation_signup",
        MessageStatus.SENT,
    )
    assert row.subject == "[Allot] Confirm your email address"


def test_signup_tells_the_person_to_check_their_email(client, signed_up):
    page = client.get(signed_up["Location"])
    assert page.status_code == 200
    assert "<h1>Check your email</h1>" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_following_the_link_verifies_and_signs_in(client, signed_up):
    link = link_in(mail.outbox[0], "/accounts/confirm-email/")
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm" in page.content.decode()
    response = client.post(link)
    user = User.objects.get(email=EMAIL)
    assert user.emailaddress_set.get().verified is True
    assert client.session["_auth_user_id"] == str(user.pk)
    # A new account has no profile yet: the next step is to fill it in.
    assert response["Location"] == "/profile/?next=%2F"


def test_sign_in_before_verifying_is_refused(client, signed_up, django_capture_on_commit_callbacks):
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in(client, EMAIL, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "Check your email" in page.content.decode()


def test_bad_signup_keeps_the_address_and_says_why_beside_the_field(client, db):
    response = client.post(
        "/accounts/signup/", {"email": "nina@uni.example", "password1": "short", "password2": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="nina@uni.example"' in html
    assert 'id="id_password1_error"' in html
    assert "There is a problem" in html
    assert not User.objects.exists()


def test_signup_with_a_taken_address_does_not_reveal_it(
    client, pi, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"email": pi.email, "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email=pi.email).count() == 1
    assert [message.to for message in mail.outbox] == [[pi.email]]


def test_signing_in_with_a_complete_profile_goes_to_the_calls(client, pi):
    response = sign_in(client, pi.email, PASSWORD)
    assert response["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(client, pi):
    response = sign_in(client, pi.email, "wrong-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The email address and/or password you specified are not correct." in html
    assert f'value="{pi.email}"' in html
    assert "_auth_user_id" not in client.session
