from django.contrib import admin

from api.models import ApiToken, UsagePush


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens as their owners see them on the profile: never the digest (PRODUCT §9)."""

    list_display = ("name", "user", "prefix", "scope", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("name", "user__email", "prefix")
    fields = ("user", "name", "prefix", "scope", "created_at", "expires_at", "revoked_at",
              "last_used_at")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # a token is created by its owner, on the profile


@admin.register(UsagePush)
class UsagePushAdmin(admin.ModelAdmin):
    list_display = ("pk", "cluster", "by", "state", "created_at", "finished_at")
    list_filter = ("state", "cluster")
    readonly_fields = ("by", "token", "cluster", "file", "original_name", "size", "sha256",
                       "state", "created_at", "started_at", "finished_at", "report",
                       "usage_file")  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
