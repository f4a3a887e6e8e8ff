"""The profile page; everything else about accounts is django-allauth's, styled by templates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm
from accounts.selectors import profile_is_complete, profile_missing_fields
from accounts.services import profile_update


def home(request):
    return redirect("call_list")


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
        {"form": form, "missing": missing, "next": next_url},
    )
