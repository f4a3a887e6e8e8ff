from django.contrib import admin

from allocations.enums import LoginSource
from allocations.models import (
    Allocation,
    AllocationMember,
    AllocationRequest,
    AllocationResource,
    ClusterLogin,
    FinalReport,
    LedgerEntry,
    Resource,
    UsageFile,
)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "unit",
        "slurm_cluster",
        "slurm_partition",
        "charge_rule",
        "charge_factor",
        "is_active",
    ]
    list_filter = ["is_active", "charge_rule", "slurm_cluster"]
    search_fields = ["name", "code", "slurm_cluster", "slurm_partition"]
    prepopulated_fields = {"code": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "code", "unit", "description", "is_active"]}),
        ("Slurm", {"fields": ["slurm_cluster", "slurm_partition", "charge_rule", "charge_factor"]}),
    ]


@admin.register(ClusterLogin)
class ClusterLoginAdmin(admin.ModelAdmin):
    """Members' login names per cluster (PRODUCT §8); the unique keys refuse a name another
    person has on the cluster beside the field."""

    list_display = ["login", "cluster", "user", "source", "set_by", "updated_at"]
    list_filter = ["cluster", "source"]
    search_fields = ["login", "cluster", "user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    fields = ["user", "cluster", "login"]

    def save_model(self, request, obj, form, change) -> None:
        obj.source = LoginSource.STAFF
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to operators, never changed here: allocations change through the services (which
    keep the ledger and the audit trail), and the ledger is append-only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AllocationResourceInline(admin.TabularInline):
    model = AllocationResource
    fields = ["resource", "awarded"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AllocationMemberInline(admin.TabularInline):
    model = AllocationMember
    fk_name = "allocation"
    fields = ["user", "added_by", "added_at", "removed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["account", "pi", "proposal", "start", "end", "created_at"]
    list_select_related = ["pi", "proposal"]
    list_filter = ["proposal__call"]
    search_fields = ["account", "pi__email", "proposal__reference", "proposal__acronym"]
    inlines = [AllocationResourceInline, AllocationMemberInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "allocation", "resource", "kind", "amount", "author", "user"]
    list_select_related = ["allocation", "resource", "author", "user"]
    list_filter = ["kind", "resource"]
    search_fields = ["allocation__account", "reason", "source"]
    date_hierarchy = "occurred_at"


@admin.register(AllocationRequest)
class AllocationRequestAdmin(ReadOnlyAdmin):
    list_display = ["allocation", "kind", "resource", "amount", "new_end", "status", "requested_at"]
    list_select_related = ["allocation", "resource"]
    list_filter = ["status", "kind"]
    search_fields = ["allocation__account", "reason"]


@admin.register(FinalReport)
class FinalReportAdmin(ReadOnlyAdmin):
    list_display = ["allocation", "original_name", "pages", "size", "uploaded_at"]
    list_select_related = ["allocation"]
    search_fields = ["allocation__account", "original_name"]
    exclude = ["file"]


@admin.register(UsageFile)
class UsageFileAdmin(ReadOnlyAdmin):
    """Every usage import (command, directory job) and its whole report: every bad line by
    number, field and value, the unknown users and accounts, the counts. Where staff look when
    usage seems missing."""

    list_display = ["path", "cluster", "outcome", "lines", "imported_at"]
    list_filter = ["cluster", "outcome"]
    search_fields = ["path", "report_summary"]
    date_hierarchy = "imported_at"
    fields = ["path", "cluster", "outcome", "lines", "imported_at", "sha256", "report_summary"]
