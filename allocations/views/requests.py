"""A call manager's answer to a PI's request for more hours or a longer period (PRODUCT §8).

The pending requests are listed on "My allocations" for call managers and on each allocation's
page; both hold the form that posts here.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import manager_required
from allocations.forms.researcher import RequestDecisionForm
from allocations.selectors.researcher import get_request_for_manager
from allocations.services.requests import allocation_request_decide


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """To the page that held the form (``next``, a path on this site), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@require_POST
@manager_required
def request_decide(request: HttpRequest, request_pk: int) -> HttpResponse:
    """Approve or decline one pending request; the answer is a message on the page it came
    from (the allocation's page by default)."""
    item = get_request_for_manager(pk=request_pk)
    default = reverse("allocation_detail", args=[item.allocation_id]) + "#requests"
    form = RequestDecisionForm(request.POST)
    values = {"number": item.pk, "account": item.allocation.account}
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        messages.error(
            request,
            _("Request #%(number)s of %(account)s was not decided: %(errors)s")
            % {**values, "errors": " ".join(errors)},
        )
    else:
        approve = form.cleaned_data["decision"] == RequestDecisionForm.APPROVE
        try:
            allocation_request_decide(
                request=item, by=request.user, approve=approve, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(
                request,
                _("Request #%(number)s of %(account)s was not decided: %(errors)s")
                % {**values, "errors": " ".join(error.messages)},
            )
        else:
            text = (
                _("Request #%(number)s of %(account)s approved; the PI is told by email.")
                if approve
                else _("Request #%(number)s of %(account)s declined; the PI is told by email.")
            )
            messages.success(request, text % values)
    return _back(request, default)
