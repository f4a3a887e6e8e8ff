"""Permission predicates about people (STYLE: named, combined explicitly, tested one by one)."""

from django.conf import settings

from accounts.models import User


def is_call_manager(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_call_manager", None)
    if cached is None:
        cached = user.groups.filter(name=settings.CALL_MANAGERS_GROUP).exists()
        user._is_call_manager = cached
    return cached


def has_mfa(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
