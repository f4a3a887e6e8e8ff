from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from tests.conftest import make_user

URL = "/profile/"
VALID = {
    "full_name": "Nina  Newcomer",
    "affiliation": "Uni Example",
    "country": "DE",
    "orcid": "https://orcid.org/0000-0002-1825-0097",
    "expertise": ["PE6", "LS2"],
    "keywords": "LLM, scaling ,llm, , graph neural networks",
    "time_zone": "Europe/Berlin",
}


def test_profile_url_name():
    assert reverse("profile") == URL


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/profile/"


def test_wrong_method_is_405(client, pi):
    client.force_login(pi)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_incomplete_profile_shows_what_is_missing(client, db):
    user = make_user("new@uni.example", complete=False)
    User.objects.filter(pk=user.pk).update(full_name="")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    banner = response.content.decode()
    assert "Your profile is not complete yet." in banner
    for label in ("Full name", "Affiliation", "Country", "At least one field of expertise"):
        assert f"<li>{label}</li>" in banner


def test_complete_profile_has_no_banner_and_shows_saved_values(client, pi):
    pi.orcid = "0000-0002-1825-0097"
    pi.save()
    client.force_login(pi)
    response = client.get(URL)
    html = response.content.decode()
    assert "Your profile is not complete yet." not in html
    assert 'value="Paula Investigator"' in html
    assert 'value="0000-0002-1825-0097"' in html
    assert 'value="large language models, scaling"' in html
    assert '<option value="DE" selected>' in html
    assert 'value="PE6" id="id_expertise_5" checked' in html


def test_saving_normalises_and_stores_the_profile(client, db):
    user = make_user("new@uni.example", complete=False)
    client.force_login(user)
    response = client.post(URL, VALID)
    assert response.status_code == 302
    assert response["Location"] == URL
    user.refresh_from_db()
    assert user.full_name == "Nina Newcomer"
    assert user.orcid == "0000-0002-1825-0097"
    assert user.expertise == ["PE6", "LS2"]
    assert user.keywords == ["LLM", "scaling", "graph neural networks"]
    assert user.time_zone == "Europe/Berlin"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your profile is complete: you can now apply for compute time."
    ]


def test_saving_a_complete_profile_again_just_says_saved(client, pi):
    client.force_login(pi)
    response = client.post(URL, VALID)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Your profile has been saved."]


def test_saving_returns_to_a_local_next(client, pi):
    client.force_login(pi)
    response = client.post(f"{URL}?next=/calls/", VALID)
    assert response["Location"] == "/calls/"
    response = client.post(URL, {**VALID, "next": "/calls/3/"})
    assert response["Location"] == "/calls/3/"


def test_saving_ignores_a_foreign_next(client, pi):
    client.force_login(pi)
    response = client.post(URL, {**VALID, "next": "https://evil.example/"})
    assert response["Location"] == URL


def test_bad_orcid_is_shown_beside_the_field_and_keeps_every_value(client, db):
    user = make_user("new@uni.example", complete=False)
    client.force_login(user)
    response = client.post(URL, {**VALID, "orcid": "0000-0002-1825-0098"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "0000-0002-1825-0098 is not a valid ORCID iD" in html
    assert 'aria-invalid="true"' in html
    assert 'value="0000-0002-1825-0098"' in html
    assert 'value="Nina  Newcomer"' in html
    assert 'value="Uni Example"' in html
    assert '<option value="DE" selected>' in html
    assert 'value="LS2" id="id_expertise_12" checked' in html
    assert 'value="LLM, scaling ,llm, , graph neural networks"' in html
    assert '<option value="Europe/Berlin" selected>' in html
    assert "Your profile is not complete yet." not in html
    user.refresh_from_db()
    assert user.orcid == ""
    assert user.full_name != "Nina Newcomer"


def test_orcid_of_another_account_is_refused_clearly(client, pi, coi):
    coi.orcid = "0000-0002-1825-0097"
    coi.save()
    client.force_login(pi)
    response = client.post(URL, VALID)
    assert response.status_code == 200
    assert "Another Allot account already uses the ORCID iD 0000-0002-1825-0097" in (
        response.content.decode()
    )


def test_required_fields_say_what_to_do(client, pi):
    client.force_login(pi)
    response = client.post(URL, {"orcid": "", "keywords": ""})
    errors = response.context["form"].errors
    assert errors["full_name"] == ["Enter your full name."]
    assert errors["affiliation"] == ["Enter your institution."]
    assert errors["country"] == ["Choose the country of your institution."]
    assert errors["expertise"] == ["Choose at least one field of expertise."]


def test_too_many_keywords_are_refused(client, pi):
    client.force_login(pi)
    keywords = ", ".join(f"topic {n}" for n in range(21))
    response = client.post(URL, {**VALID, "keywords": keywords})
    assert response.context["form"].errors["keywords"] == ["Give at most 20 keywords; you gave 21."]


def test_overlong_keyword_is_refused(client, pi):
    client.force_login(pi)
    response = client.post(URL, {**VALID, "keywords": "ok, " + "x" * 51})
    assert response.context["form"].errors["keywords"] == [
        f"Keep each keyword to 50 characters or fewer; too long: {'x' * 51}."
    ]


def test_unknown_choices_are_refused_not_500(client, pi):
    client.force_login(pi)
    response = client.post(
        URL, {**VALID, "country": "XX", "expertise": ["PE99"], "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"country", "expertise", "time_zone"}


def test_time_zone_may_follow_the_browser(client, pi):
    pi.time_zone = "Asia/Seoul"
    pi.save()
    client.force_login(pi)
    client.post(URL, {**VALID, "time_zone": ""})
    pi.refresh_from_db()
    assert pi.time_zone == ""


def test_time_zones_are_grouped_and_an_old_alias_stays_selectable(client, pi):
    pi.time_zone = "US/Eastern"
    pi.save()
    client.force_login(pi)
    html = client.get(URL).content.decode()
    assert '<optgroup label="Europe">' in html
    assert '<option value="Europe/Berlin">Berlin (Europe)</option>' in html
    assert '<option value="US/Eastern" selected>US/Eastern</option>' in html


def test_new_call_emails_are_off_until_ticked_and_the_checkbox_saves(client, pi):
    client.force_login(pi)
    html = client.get(URL).content.decode()
    assert (
        '<input type="checkbox" name="notify_new_calls" '
        'aria-describedby="id_notify_new_calls_helptext" id="id_notify_new_calls">'
    ) in html
    assert "Email me when a new call opens" in html
    assert not pi.notify_new_calls

    client.post(URL, {**VALID, "notify_new_calls": "on"})
    pi.refresh_from_db()
    assert pi.notify_new_calls is True
    html = client.get(URL).content.decode()
    assert 'id="id_notify_new_calls" checked>' in html

    client.post(URL, VALID)  # unticked: a browser sends nothing for the box
    pi.refresh_from_db()
    assert pi.notify_new_calls is False
