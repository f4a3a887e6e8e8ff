"""Changing the sign-in address (ACCOUNT_CHANGE_EMAIL): add, verify, and it becomes primary."""

from allauth.account.models import EmailAddress
from django.core import mail

from tests.accounts.conftest import link_in, sign_in
from tests.conftest import PASSWORD

NEW = "paula@newuni.example"


def test_email_page_needs_sign_in(client, db):
    response = client.get("/accounts/email/")
    assert response["Location"] == "/accounts/login/?next=/accounts/email/"


def test_email_page_in_the_account_layout(client, pi):
    client.force_login(pi)
    html = client.get("/accounts/email/").content.decode()
    assert 'class="with-sidebar"' in html
    assert pi.email in html


def test_change_address_after_verifying_the_new_one(client, pi, django_capture_on_commit_callbacks):
    sign_in(client, pi.email, PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/email/", {"action_add": "", "email": NEW})
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[NEW]]
    pi.refresh_from_db()
    assert pi.email == "pi@uni.example"

    link = link_in(mail.outbox[0], "/accounts/confirm-email/")
    client.post(link)
    pi.refresh_from_db()
    assert pi.email == NEW
    assert list(
        EmailAddress.objects.filter(user=pi).values_list("email", "primary", "verified")
    ) == [(NEW, True, True)]


def test_invalid_new_address_is_refused_beside_the_field(client, pi):
    client.force_login(pi)
    response = client.post("/accounts/email/", {"action_add": "", "email": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="nope"' in html
    assert "Enter a valid email address." in html
