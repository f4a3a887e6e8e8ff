from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications import selectors
from notifications.models import OutboxMessage

# Never shown here, and never loaded: a secret message's body is its recipient's alone.
BODIES = ("body_text", "body_html")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: the outbox changes only through its services (retry is on the outbox page).

    The bodies are not fields of this admin: ``text`` shows an ordinary message's text and,
    for a secret one (PRODUCT §1.1), says only that its recipient reads it.
    """

    list_display = [
        "created_at",
        "kind",
        "recipient",
        "subject",
        "status",
        "secret",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "secret", "created_at", "sent_at"]
    search_fields = ["recipient", "event", "subject"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*BODIES)

    def get_fields(self, request, obj=None):
        return [*self.get_readonly_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        fields = [field.name for field in self.model._meta.fields if field.name not in BODIES]
        return [*fields, "text"]

    @admin.display(description=_("text"))
    def text(self, message: OutboxMessage) -> str:
        return selectors.outbox_message_body(message=message).text

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
