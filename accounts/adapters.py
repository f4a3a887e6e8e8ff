"""django-allauth hooks: people whose profile is incomplete are sent to it after signing in;
ORCID fills in the iD. Account emails go through the outbox: ``notifications.adapters``
extends ``AccountAdapter`` with that (``accounts`` is the lowest app and imports no other)."""

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse

from accounts.orcid import normalise_orcid
from accounts.selectors import orcid_taken, profile_is_complete
from accounts.text import (
    has_control_character,
    refuse_long_local_part,
    safe_name,
    without_nul,
)


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """After signing in without an explicit ``next``: the profile while it lacks what a
        proposal needs (then on to the usual page), else the usual page."""
        return _profile_first(request, super().get_login_redirect_url(request))

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """After signing up (and confirming the address): the profile first, as above."""
        return _profile_first(request, super().get_signup_redirect_url(request))

    def clean_email(self, email: str) -> str:
        """Every address allauth takes (sign-up, a new address, a reset): at most
        ``EMAIL_LOCAL_PART_MAX`` characters before the @, refused beside the field."""
        email = super().clean_email(email)
        refuse_long_local_part(email)
        return email


def _profile_first(request: HttpRequest, url: str) -> str:
    if request.user.is_authenticated and not profile_is_complete(request.user):
        return f"{reverse('profile')}?{urlencode({'next': url})}"
    return url


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider, client_id=None):
        """A provider that is not set up here (ORCID without its settings, an unknown OpenID
        Connect id in the URL) is a page that does not exist: 404, not a server error."""
        try:
            return super().get_provider(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as missing:
            raise Http404("This sign-in provider is not set up.") from missing

    def populate_user(self, request: HttpRequest, sociallogin, data: dict):
        """A new account from ORCID or OIDC starts with the name the provider knows, and from
        ORCID with the iD itself (unless another account already holds it).

        What the provider sent is read like typed text: no NUL in what is stored of it (the
        record, the id), no address with a control character (allauth looks the account up
        with them right after this, and PostgreSQL cannot store a NUL)."""
        account = sociallogin.account
        account.extra_data = without_nul(account.extra_data)
        account.uid = without_nul(account.uid)
        sociallogin.email_addresses = [
            address
            for address in sociallogin.email_addresses
            if not has_control_character(address.email)
        ]
        if has_control_character(data.get("email") or ""):
            data = {**data, "email": None}
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        name = safe_name(name or "")
        if name and not user.full_name:
            user.full_name = name[:200]
        if sociallogin.account.provider == "orcid" and not user.orcid:
            try:
                orcid = normalise_orcid(sociallogin.account.uid)
            except ValidationError:
                orcid = ""
            if orcid and not orcid_taken(orcid=orcid):
                user.orcid = orcid
        return user
