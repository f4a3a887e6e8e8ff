"""The profile's API tokens (PRODUCT §9): list, create (the token is shown once), revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import TokenForm
from api.rules import may_create_tokens


def tokens_section(request: HttpRequest) -> str:
    """The tokens section of the profile page (registered in ``accounts.hooks``)."""
    user = request.user
    return render_to_string(
        "api/tokens_section.html",
        {
            "tokens": selectors.tokens_of(user=user),
            "token_form": TokenForm(user=user),
            "may_create": may_create_tokens(user),
            "now": timezone.now(),
        },
        request=request,
    )


@require_http_methods(["GET", "POST"])
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token and show it, once; the form again with its errors when refused."""
    user = request.user
    if not may_create_tokens(user):
        raise PermissionDenied(
            _("Confirm your second factor before creating a token: it carries your powers.")
        )
    form = TokenForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.token_create(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                days=form.cleaned_data["days"],
            )
        except PermissionDenied as error:
            form.add_error("scope", str(error))
        else:
            return render(request, "api/token_created.html", {"token": new.token, "raw": new.raw})
    return render(request, "api/token_new.html", {"form": form})


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.get_token_of_owner(user=request.user, pk=pk)
    services.token_revoke(token=token, by=request.user)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("profile")
