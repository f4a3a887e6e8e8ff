"""Permission predicates about people (STYLE: named, combined explicitly, tested one by one).

PRODUCT §1.1: every call-manager and superuser power, reading included, needs a session that
signed in with its second factor. ``has_manager_role`` says who holds the role;
``is_call_manager`` says who may use it now, and is what every rule of the apps asks.
"""

from django.conf import settings

from accounts.models import User


def has_manager_role(user: User) -> bool:
    """A member of the call managers' group, or a superuser (whatever the session)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_call_manager", None)
    if cached is None:
        cached = user.groups.filter(name=settings.CALL_MANAGERS_GROUP).exists()
        user._is_call_manager = cached
    return cached


def passed_second_factor(user: User) -> bool:
    """This user's session signed in (or confirmed since) with its second factor.

    Set on ``request.user`` by ``accounts.middleware.SecondFactorMiddleware`` from allauth's
    authentication records of the session; a user object that came from anywhere else (a
    query, a task) has not passed it, so it holds no manager power.
    """
    return bool(getattr(user, "second_factor_passed", False))


def is_call_manager(user: User) -> bool:
    """May use the call managers' powers now: the role, and the second factor this session."""
    return has_manager_role(user) and passed_second_factor(user)


def has_mfa(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
