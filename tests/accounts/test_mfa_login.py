"""Two-factor sign-in: a call manager with an authenticator must give its code."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from tests.accounts.conftest import sign_in, totp_code
from tests.conftest import PASSWORD, make_manager


@pytest.fixture
def manager_with_secret(db):
    manager = make_manager(with_mfa=False)
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)
    return manager, secret


def test_password_alone_does_not_sign_a_manager_in(client, manager_with_secret):
    manager, _secret = manager_with_secret
    response = sign_in(client, manager.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/2fa/authenticate/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()


def test_wrong_code_is_refused_beside_the_field(client, manager_with_secret):
    manager, _secret = manager_with_secret
    sign_in(client, manager.email, PASSWORD)
    response = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_code_error"' in html
    assert "Incorrect code." in html
    assert "_auth_user_id" not in client.session


def test_code_from_the_app_signs_the_manager_in(client, manager_with_secret):
    manager, secret = manager_with_secret
    sign_in(client, manager.email, PASSWORD)
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_mfa_overview_needs_sign_in(client, db):
    response = client.get("/accounts/2fa/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
