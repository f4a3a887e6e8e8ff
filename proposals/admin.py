"""The Django admin for operators (PRODUCT §1: superusers). Managers use the call pages.

Dates here are shown and typed in the reader's time zone, not the call's; the managers' call
form is the place that works in the call's zone.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from proposals.calls.models import Call, CallCriterion, CallResource, CallRole
from proposals.calls.services import FIELD_GROUPS


class CallResourceInline(admin.TabularInline):
    model = CallResource
    extra = 0
    autocomplete_fields = ["resource"]


class CallCriterionInline(admin.TabularInline):
    model = CallCriterion
    extra = 0


class CallRoleInline(admin.TabularInline):
    model = CallRole
    extra = 0
    fields = ["role", "email", "user", "max_load", "added_by", "created_at"]
    readonly_fields = ["added_by", "created_at"]
    raw_id_fields = ["user"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "status_label", "opens_at", "closes_at", "time_zone"]
    search_fields = ["code", "name", "reference_prefix"]
    date_hierarchy = "opens_at"
    readonly_fields = ["decisions_published_at", "archived_at", "created_at", "updated_at"]
    inlines = [CallResourceInline, CallCriterionInline, CallRoleInline]
    fieldsets = [
        *((label, {"fields": list(names)}) for label, names in FIELD_GROUPS),
        (
            _("State"),
            {"fields": ["decisions_published_at", "archived_at", "created_at", "updated_at"]},
        ),
    ]

    @admin.display(description=_("status"))
    def status_label(self, call: Call) -> str:
        return call.status.label


@admin.register(CallRole)
class CallRoleAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "call", "user", "max_load", "created_at"]
    list_filter = ["role", "call"]
    search_fields = ["email", "user__email", "user__full_name", "call__code"]
    raw_id_fields = ["user", "added_by"]
    list_select_related = ["call", "user"]
