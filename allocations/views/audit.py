"""The audit trail for call managers (PRODUCT §9): a page with filters, and the same rows as
CSV. Every call manager manages every call; nobody else reads the trail."""

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.decorators import manager_required
from accounts.exports import Table, table_response
from allocations.forms.audit import AuditFilter
from allocations.selectors.audit import AuditRow, audit_all_rows, audit_page
from proposals.calls.models import Call
from proposals.calls.selectors import get_call_for_manager


def _filter(request: HttpRequest, call: Call | None) -> AuditFilter:
    data: QueryDict = request.GET.copy()
    if call is not None:
        data["call"] = str(call.pk)
    return AuditFilter(data)


def _trail(request: HttpRequest, call: Call | None) -> HttpResponse:
    form = _filter(request, call)
    filters = form.filters(timezone.get_current_timezone())
    page_obj, rows = audit_page(filters, request.GET.get("page"))
    return render(
        request,
        "allocations/audit.html",
        {"call": filters.call, "filters": form, "page_obj": page_obj, "rows": rows},
    )


@require_safe
@manager_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Every call's trail and the sign-ins, narrowed by the filters."""
    return _trail(request, None)


@require_safe
@manager_required
def call_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """One call's trail (404 for a call that does not exist)."""
    return _trail(request, get_call_for_manager(user=request.user, pk=pk))


def audit_csv_rows(rows: Iterator[AuditRow]) -> Iterator[list[str]]:
    """A header, then one line per entry and change (``accounts.exports`` writes them, texts
    that start like formulas as text)."""
    yield [
        _("When"),
        _("Who"),
        _("Action"),
        _("Call"),
        _("About"),
        _("Person"),
        _("Field"),
        _("Before"),
        _("After"),
    ]
    for row in rows:
        head = [row.when, row.actor, row.action, row.call, row.subject, row.person]
        changes = row.changes or [None]
        for change in changes:
            tail = [change.key, change.before, change.after] if change else ["", "", ""]
            yield [*head, *tail]


@require_safe
@manager_required
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The trail as CSV, with the page's filters (``?call=…&action=…``), newest first."""
    form = _filter(request, None)
    filters = form.filters(timezone.get_current_timezone())
    lines = audit_csv_rows(audit_all_rows(filters))
    name = slugify(filters.call.code) if filters.call is not None else "all-calls"
    table = Table(name=f"audit {name}", columns=next(lines), rows=lines)
    return table_response(table, "csv", stream=True)
