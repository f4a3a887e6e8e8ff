"""The call managers' view of the outbox (PRODUCT §7): every message, and a retry for failures."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import manager_required
from notifications import selectors, services
from notifications.enums import MessageStatus
from notifications.forms import OutboxFilterForm

PAGE_SIZE = 50


@require_GET
@manager_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    outbox = selectors.outbox_message_list(
        status=filters.get("status", ""), search=filters.get("q", "")
    )
    page = Paginator(outbox, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/outbox_list.html",
        {
            "form": form,
            "page_obj": page,
            "status_counts": selectors.outbox_status_counts(),
            "failed": MessageStatus.FAILED,
        },
    )


@require_GET
@manager_required
def outbox_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = selectors.outbox_message_get(message_id=message_id)
    return render(
        request,
        "notifications/outbox_detail.html",
        {
            "outbox_message": message,
            "body": selectors.outbox_message_body(message=message),
            "failed": MessageStatus.FAILED,
        },
    )


@require_POST
@manager_required
def outbox_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    message = selectors.outbox_message_get(message_id=message_id)
    try:
        retried = services.outbox_retry(message=message)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect(_back(request))
    if retried:
        messages.success(
            request,
            _("The message to %(recipient)s is queued again.") % {"recipient": message.recipient},
        )
    else:
        messages.warning(
            request,
            _("Only failed messages can be retried; the status of this one is “%(status)s”.")
            % {"status": MessageStatus(message.status).label},
        )
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """The page the manager came from (the list with its filters), if it is on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("outbox_list")
