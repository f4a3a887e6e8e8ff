"""Password reset (signed out) and password change (signed in)."""

from django.core import mail

from tests.accounts.conftest import link_in, sign_in
from tests.conftest import PASSWORD

NEW_PASSWORD = "another-horse-battery-77"


def test_reset_sends_exactly_one_email_to_the_address(
    client, pi, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": pi.email})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert [message.to for message in mail.outbox] == [[pi.email]]
    assert mail.outbox[0].subject == "[Allot] Password Reset Email"


def test_reset_link_sets_a_new_password(client, pi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": pi.email})
    link = link_in(mail.outbox[0], "/accounts/password/reset/key/")
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0]
    response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/key/done/"
    pi.refresh_from_db()
    assert pi.check_password(NEW_PASSWORD)


def test_reset_with_a_malformed_address_says_so_beside_the_field(client, db):
    response = client.post("/accounts/password/reset/", {"email": "not-an-address"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_email_error"' in html
    assert 'value="not-an-address"' in html
    assert mail.outbox == []


def test_change_password_needs_sign_in(client, db):
    response = client.get("/accounts/password/change/")
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


def test_change_password(client, pi):
    sign_in(client, pi.email, PASSWORD)
    page = client.get("/accounts/password/change/")
    assert page.status_code == 200
    assert 'class="with-sidebar"' in page.content.decode()
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    pi.refresh_from_db()
    assert pi.check_password(NEW_PASSWORD)


def test_change_password_with_the_wrong_current_one(client, pi):
    sign_in(client, pi.email, PASSWORD)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "nope", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert 'id="id_oldpassword_error"' in response.content.decode()
    pi.refresh_from_db()
    assert pi.check_password(PASSWORD)
