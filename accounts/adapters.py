"""django-allauth hooks: people whose profile is incomplete are sent to it after signing in;
ORCID fills in the iD. Account emails go through the outbox: ``notifications.adapters``
extends ``AccountAdapter`` with that (``accounts`` is the lowest app and imports no other)."""

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from accounts.orcid import normalise_orcid
from accounts.selectors import orcid_taken, profile_is_complete


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """After signing in without an explicit ``next``: the profile while it lacks what a
        proposal needs (then on to the usual page), else the usual page."""
        return _profile_first(request, super().get_login_redirect_url(request))

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """After signing up (and confirming the address): the profile first, as above."""
        return _profile_first(request, super().get_signup_redirect_url(request))


def _profile_first(request: HttpRequest, url: str) -> str:
    if request.user.is_authenticated and not profile_is_complete(request.user):
        return f"{reverse('profile')}?{urlencode({'next': url})}"
    return url


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin, data: dict):
        """A new account from ORCID or OIDC starts with the name the provider knows, and from
        ORCID with the iD itself (unless another account already holds it)."""
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
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
