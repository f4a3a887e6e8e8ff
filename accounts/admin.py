"""People in the Django admin (operators, PRODUCT §1): the email replaces Django's username."""

from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialToken
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.hooks import manager_role_changed
from accounts.models import User
from accounts.rules import passed_second_factor


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "affiliation", "country", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name", "affiliation", "orcid")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Profile"),
            {
                "fields": (
                    "full_name",
                    "affiliation",
                    "country",
                    "orcid",
                    "expertise",
                    "keywords",
                    "time_zone",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def save_related(self, request, form, formsets, change):
        """Saves the groups; a change to the call managers' group or the superuser flag goes
        to the audit trail (PRODUCT §9) through ``accounts.hooks``."""
        user = form.instance
        before = _manager_roles(user, was_superuser=form.initial.get("is_superuser", False))
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            after = _manager_roles(user, was_superuser=user.is_superuser)
            if before != after:
                manager_role_changed(user=user, by=request.user, before=before, after=after)


def _manager_roles(user: User, *, was_superuser: bool) -> list[str]:
    roles = []
    if user.pk and user.groups.filter(name=settings.CALL_MANAGERS_GROUP).exists():
        roles.append(settings.CALL_MANAGERS_GROUP)
    if was_superuser:
        roles.append("superuser")
    return roles


def _staff_with_second_factor(request) -> bool:
    """PRODUCT §1.1: the admin's powers, reading included, need a session that passed the
    second factor; without it the admin sends the person to its login, which is
    ``accounts.views.admin_login`` (allauth's sign-in, then the second factor)."""
    user = request.user
    return user.is_active and user.is_staff and passed_second_factor(user)


admin.site.has_permission = _staff_with_second_factor  # type: ignore[method-assign]


# --- Secrets that belong to one person (PRODUCT §1.1) -------------------------------------------
# allauth's own admin pages show each authenticator's ``data`` (the TOTP secret, the recovery
# codes' seed) and each identity provider's tokens to every superuser: enough to pass as that
# person. Operators keep what they need (who has which authenticator, when it was last used,
# removing a lost one); the secrets are shown to nobody.
admin.site.unregister(Authenticator)
if admin.site.is_registered(SocialToken):
    admin.site.unregister(SocialToken)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Who has which authenticator; an operator may delete a lost one (the person then sets
    up a new one). Its secret is not a field here."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type", "created_at", "last_used_at"]
    search_fields = ["user__email", "user__full_name"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
