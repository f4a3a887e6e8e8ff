"""allauth's pages inside the site's layout, with its classes; signed-out and wrong-method cases."""

import pytest

from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD

ENTRANCE_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/confirm-email/",
]
MANAGE_PAGES = [
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/logout/",
]


@pytest.mark.parametrize("url", ENTRANCE_PAGES)
def test_entrance_pages_sit_in_a_card(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="narrow card allauth">' in html
    assert 'class="site-header"' in html


@pytest.mark.parametrize("url", MANAGE_PAGES)
def test_account_pages_have_the_settings_menu(client, pi, url):
    client.force_login(pi)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="with-sidebar"' in html
    assert 'aria-label="Account settings"' in html


@pytest.mark.parametrize("url", [*MANAGE_PAGES[:3], "/profile/"])
def test_account_pages_need_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_current_settings_page_is_marked(client, pi):
    client.force_login(pi)
    html = client.get("/accounts/password/change/").content.decode()
    assert '<a href="/accounts/password/change/" aria-current="page">' in html


def test_buttons_and_errors_use_the_site_classes(client, db):
    html = client.post("/accounts/login/", {"login": "", "password": ""}).content.decode()
    assert '<button type="submit"\n class="button"' in html
    assert 'class="error-summary"' in html
    assert '<div class="field field-invalid field-required">' in html
    assert 'id="id_login_error"' in html
    assert 'aria-describedby="id_login_error"' in html


def test_mfa_overview_uses_panels(client, manager):
    client.force_login(manager)
    html = client.get("/accounts/2fa/").content.decode()
    assert '<section class="panel">' in html
    assert "Authentication using an authenticator app is active." in html


def test_sign_out_by_post(client, pi):
    sign_in(client, pi.email, PASSWORD)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_profile_refuses_other_methods_even_signed_out(client, db):
    assert client.put("/profile/").status_code == 405
    assert client.patch("/profile/").status_code == 405
