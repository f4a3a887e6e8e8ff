from django.contrib import admin

from allocations.models import Resource


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
