"""The profile page; everything else about accounts is django-allauth's, styled by templates."""

from urllib.parse import urlencode

from allauth.mfa.totp.views import activate_totp as allauth_activate_totp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language

from accounts.decorators import second_factor_redirect
from accounts.forms import ProfileForm
from accounts.hooks import profile_sections
from accounts.rules import passed_second_factor
from accounts.selectors import profile_is_complete, profile_missing_fields
from accounts.services import profile_update


@require_http_methods(["GET", "HEAD", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's sign-in, replaced (PRODUCT §1.1: the admin signs in through the same
    login): allauth's sign-in with its rate limits and second factor, then back to the admin.
    Someone signed in without the second factor confirms it first; someone who is no staff
    member gets 403 (the admin would send them back here, round and round)."""
    back = _next_url(request) or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({'next': back})}")
    if not request.user.is_staff:
        raise PermissionDenied(_("The administration is for staff members only."))
    if not passed_second_factor(request.user):
        return second_factor_redirect(request, back)
    return redirect(back)


# Where a manager sent to set up the second factor was going: the recovery codes page, which
# allauth shows right after the activation, leads back there (issue 14, point 7).
AFTER_SECOND_FACTOR = "after_second_factor"


def activate_totp(request: HttpRequest) -> HttpResponse:
    """allauth's activation of an authenticator, remembering the safe ``next`` it was opened
    with for the recovery codes page that follows."""
    back = _next_url(request)
    if back:
        request.session[AFTER_SECOND_FACTOR] = back
    return allauth_activate_totp(request)


def _next_url(request: HttpRequest) -> str:
    """The safe local ``next`` the profile was opened with (query string or form), or ""."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Show and save the signed-in person's profile; back to ``next`` once it is saved."""
    next_url = _next_url(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, user=request.user)
        was_complete = profile_is_complete(request.user)
        if form.is_valid():
            try:
                profile_update(user=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if was_complete:
                    messages.success(request, _("Your profile has been saved."))
                else:
                    messages.success(
                        request,
                        _("Your profile is complete: you can now apply for compute time."),
                    )
                return redirect(next_url or "profile")
    else:
        form = ProfileForm(user=request.user)
    # Once a form comes back with errors, its summary says what to fix; the banner listing
    # what the saved profile lacks would contradict what was just typed.
    missing = [] if form.is_bound else profile_missing_fields(request.user)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "missing": missing,
            "next": next_url,
            "sections": [section(request) for section in profile_sections],
        },
    )


@require_http_methods(["POST"])
def language_switch(request: HttpRequest) -> HttpResponse:
    """The footer's language switch: for everyone a cookie (Django's ``set_language``), and for
    a signed-in person their profile's language too, so that their emails follow."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Choose one of the languages offered."))
    if request.user.is_authenticated:
        profile_update(user=request.user, data={"language": language})
    return set_language(request)
