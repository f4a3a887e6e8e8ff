"""Signing in as a person with an authenticator does: the password, then the app's code.

For tests that must hold whatever a session needs to reach the manager pages and the admin
(PRODUCT §1.1: every manager and superuser power needs a session that passed its second
factor), rather than ``force_login``, which skips the sign-in.
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from accounts.models import User
from tests.accounts.conftest import sign_in, totp_code
from tests.conftest import PASSWORD


def sign_in_with_totp(user: User, client: Client | None = None) -> Client:
    """``client`` (a new one by default) signed in as ``user``, whose authenticator app is
    set up anew here; ``user``'s password must be ``PASSWORD``."""
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = client or Client()
    sign_in(client, user.email, PASSWORD)
    # A code read at the very end of its 30 seconds may be refused (allauth allows no drift):
    # the next one is taken then, as a person would.
    for _attempt in range(2):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
        if response.status_code == 302:
            break
    assert response.status_code == 302, response.content.decode()
    assert client.session["_auth_user_id"] == str(user.pk)
    return client
