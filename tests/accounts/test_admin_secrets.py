"""The admin shows nobody another person's second factor or identity-provider tokens
(PRODUCT §1.1): allauth's own admin pages would show them to every superuser."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.conftest import make_superuser

pytestmark = pytest.mark.django_db


def test_an_authenticators_secret_is_on_no_admin_page(client, manager):
    totp = Authenticator.objects.get(user=manager, type=Authenticator.Type.TOTP)
    secret = totp.data["secret"]
    client.force_login(make_superuser("root@centre.example"))

    listing = client.get(reverse("admin:mfa_authenticator_changelist"))
    page = client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))

    assert listing.status_code == page.status_code == 200
    assert str(manager) in listing.content.decode()
    assert secret not in listing.content.decode()
    assert secret not in page.content.decode()
    assert 'name="data"' not in page.content.decode()


def test_an_operator_may_remove_a_lost_authenticator_but_not_write_one(client, manager):
    totp = Authenticator.objects.get(user=manager, type=Authenticator.Type.TOTP)
    client.force_login(make_superuser("root@centre.example"))

    assert client.get(reverse("admin:mfa_authenticator_add")).status_code == 403
    client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"})

    assert not Authenticator.objects.filter(pk=totp.pk).exists()


def test_identity_provider_tokens_have_no_admin_page():
    from allauth.socialaccount.models import SocialToken
    from django.contrib import admin

    assert not admin.site.is_registered(SocialToken)
