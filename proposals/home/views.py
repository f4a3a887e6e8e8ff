"""The home page: what waits for the signed-in person (PRODUCT §9)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from proposals.home.selectors import waiting_for


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Signed in: every section of what waits, each item with its link. Otherwise the calls."""
    if not request.user.is_authenticated:
        return redirect("call_list")
    sections = waiting_for(
        user=request.user, now=timezone.now(), zone=timezone.get_current_timezone()
    )
    return render(request, "proposals/home.html", {"sections": sections})
