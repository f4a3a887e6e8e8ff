"""Call pages: the public list and detail, and the call managers' pages.

Views parse the request, fetch-and-check through a selector, call one service and render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import manager_required
from proposals.calls import selectors, services
from proposals.calls.forms import CallEditor, CallRoleForm
from proposals.calls.hooks import continuable, start_refusal
from proposals.calls.rules import can_manage_call, can_read_ranking


@require_safe
def call_list(request: HttpRequest) -> HttpResponse:
    calls = selectors.public_calls()
    return render(
        request, "proposals/call_list.html", {"current": calls.current, "past": calls.past}
    )


@require_safe
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_public_call(pk=pk)
    return render(
        request,
        "proposals/call_detail.html",
        {
            "call": call,
            "can_manage": can_manage_call(request.user, call),
            "can_read_ranking": can_read_ranking(request.user, call),
            "start_refusal": start_refusal(request.user, call, timezone.now()),
            "continuable": continuable(request.user),
        },
    )


@require_safe
@manager_required
def manage_call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/manage/call_list.html", {"calls": selectors.manager_calls()})


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_http_methods(["GET", "POST"])
@manager_required
def manage_call_create(request: HttpRequest) -> HttpResponse:
    editor = CallEditor(request.POST if request.method == "POST" else None)
    if request.method == "POST" and editor.is_valid():
        try:
            call = services.call_create(
                by=request.user,
                data=editor.data,
                budgets=editor.budgets.rows(),
                criteria=editor.criteria.rows(),
            )
        except ValidationError as error:
            editor.add_error(error)
        else:
            messages.success(request, _("Call %(code)s created.") % {"code": call.code})
            return redirect("manage_call_list")
    return render(request, "proposals/manage/call_form.html", {"editor": editor, "call": None})


@require_http_methods(["GET", "POST"])
@manager_required
def manage_call_edit(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_editing(user=request.user, pk=pk)
    editor = CallEditor(request.POST if request.method == "POST" else None, call=call)
    if request.method == "POST" and editor.is_valid():
        try:
            call = services.call_update(
                call=call,
                by=request.user,
                data=editor.data,
                budgets=editor.budgets.rows(),
                criteria=editor.criteria.rows(),
            )
        except ValidationError as error:
            editor.add_error(error)
        else:
            messages.success(request, _("Call %(code)s saved.") % {"code": call.code})
            return redirect("manage_call_list")
    return render(request, "proposals/manage/call_form.html", {"editor": editor, "call": call})


@require_POST
@manager_required
def manage_call_next_cycle(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_manager(user=request.user, pk=pk)
    try:
        new_call = services.call_create_next_cycle(call=call, by=request.user)
    except ValidationError as error:
        messages.error(request, _messages_of(error))
        return redirect("manage_call_list")
    messages.success(
        request,
        _("Call %(code)s created from %(previous)s: check its dates and settings.")
        % {"code": new_call.code, "previous": call.code},
    )
    return redirect("manage_call_edit", pk=new_call.pk)


@require_POST
@manager_required
def manage_call_archive(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_manager(user=request.user, pk=pk)
    archive = request.POST.get("archive")
    if archive == "1":
        services.call_archive(call=call, by=request.user)
        messages.success(request, _("Call %(code)s archived.") % {"code": call.code})
    elif archive == "0":
        services.call_unarchive(call=call, by=request.user)
        messages.success(request, _("Call %(code)s is no longer archived.") % {"code": call.code})
    else:
        return HttpResponseBadRequest(_("Say whether to archive the call (archive=1) or not (0)."))
    return redirect("manage_call_list")


@require_http_methods(["GET", "POST"])
@manager_required
def manage_call_people(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_manager(user=request.user, pk=pk)
    form = CallRoleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        role, created = services.call_role_add(
            call=call,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            max_load=form.cleaned_data["max_load"],
            by=request.user,
        )
        values = {"email": role.email, "role": role.get_role_display().lower()}
        if created:
            messages.success(request, _("%(email)s added as %(role)s.") % values)
        else:
            messages.info(
                request, _("%(email)s is already listed as %(role)s in this call.") % values
            )
        return redirect("manage_call_people", pk=call.pk)
    people = selectors.call_people(call=call, page=request.GET.get("page"))
    return render(
        request,
        "proposals/manage/call_people.html",
        {"call": call, "form": form, "people": people},
    )


@require_POST
@manager_required
def manage_call_role_remove(request: HttpRequest, pk: int, role_pk: int) -> HttpResponse:
    call = selectors.get_call_for_manager(user=request.user, pk=pk)
    role = selectors.get_call_role_for_manager(user=request.user, call=call, pk=role_pk)
    services.call_role_remove(role=role, by=request.user)
    messages.success(
        request,
        _("%(email)s is no longer listed as %(role)s in this call.")
        % {"email": role.email, "role": role.get_role_display().lower()},
    )
    return redirect("manage_call_people", pk=call.pk)
