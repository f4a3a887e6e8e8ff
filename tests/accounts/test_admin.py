from accounts.models import User
from tests.conftest import make_superuser


def _superuser():
    return make_superuser("root@centre.example")


def test_people_list_and_search(client, db, pi):
    client.force_login(_superuser())
    response = client.get("/admin/accounts/user/?q=Paula")
    assert response.status_code == 200
    assert "pi@uni.example" in response.content.decode()


def test_person_page_shows_the_profile(client, db, pi):
    client.force_login(_superuser())
    response = client.get(f"/admin/accounts/user/{pi.pk}/change/")
    assert response.status_code == 200
    assert "Uni Example" in response.content.decode()


def test_operator_adds_a_person_by_email(client, db):
    client.force_login(_superuser())
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@centre.example",
            "usable_password": "true",
            "password1": "a-long-pass-77",
            "password2": "a-long-pass-77",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@centre.example").check_password("a-long-pass-77")


def test_admin_is_for_operators_only(client, pi):
    client.force_login(pi)
    assert client.get("/admin/accounts/user/").status_code == 302
