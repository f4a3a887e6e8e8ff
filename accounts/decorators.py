"""View guards shared by the apps."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from accounts.rules import has_manager_role, has_mfa, passed_second_factor
from accounts.selectors import profile_missing_fields


def second_factor_redirect(request, next_url: str = ""):
    """Where a manager whose session lacks the second factor goes, with ``next`` back here:
    to set up an authenticator when they have none, else to confirm with it (PRODUCT §1.1)."""
    back = urlencode({"next": next_url or _return_path(request) or reverse("home")})
    if not has_mfa(request.user):
        messages.warning(
            request,
            _("Call managers must turn on two-factor authentication before managing calls."),
        )
        return redirect(f"{reverse('mfa_activate_totp')}?{back}")
    messages.info(
        request,
        _("Please confirm with a code from your authenticator app to manage calls."),
    )
    return redirect(f"{reverse('mfa_reauthenticate')}?{back}")


def manager_required(view):
    """Signed in, a call manager (else 403), with a session that passed the second factor.

    PRODUCT §1.1 requires it for every manager power, reading included: a manager without an
    authenticator is sent to set one up, one whose session did not use it to confirm with it.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_manager_role(request.user):
            raise PermissionDenied(_("Only call managers can open this page."))
        if not passed_second_factor(request.user):
            return second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def _return_path(request) -> str:
    """Where to come back to after the profile: this page, or for a form post the page that
    held the form (a redirect cannot repeat a POST)."""
    if request.method in {"GET", "HEAD"}:
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def profile_complete_required(view):
    """Signed in, with the profile fields a proposal needs (full name, affiliation, country,
    at least one field of expertise).

    Someone whose profile lacks them is sent to the profile with a message naming what is
    missing and ``?next=`` back to where they were.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        missing = profile_missing_fields(request.user)
        if missing:
            messages.warning(
                request,
                _("Please complete your profile first. Still missing: %(fields)s.")
                % {"fields": get_text_list(missing, _("and"))},
            )
            url = reverse("profile")
            back = _return_path(request)
            if back:
                url = f"{url}?{urlencode({'next': back})}"
            return redirect(url)
        return view(request, *args, **kwargs)

    return wrapper
