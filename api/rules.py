"""Permission predicates of the API (PRODUCT §9)."""

from accounts.models import User
from accounts.rules import has_manager_role, is_call_manager, passed_second_factor
from api.enums import TokenScope
from api.models import ApiToken, UsagePush


def is_centre_staff(user: User) -> bool:
    """Centre staff push usage and read the Slurm plan: the call managers (PRODUCT §1: "call
    manager — centre staff"), with their second factor like every manager power."""
    return is_call_manager(user)


def may_create_tokens(user: User) -> bool:
    """Anyone signed in; a manager only from a session that passed the second factor, since
    the token would carry the manager's powers (PRODUCT §1.1)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return not has_manager_role(user) or passed_second_factor(user)


def may_choose_scope(user: User, scope: str) -> bool:
    """Reading is for everyone; pushing usage for centre staff only."""
    return scope == TokenScope.READ or (scope == TokenScope.USAGE and is_centre_staff(user))


def token_allows(token: ApiToken, scope: str) -> bool:
    """``usage`` includes ``read``."""
    return token.scope == TokenScope.USAGE or scope == TokenScope.READ


def can_read_push(user: User, push: UsagePush) -> bool:
    """The person who pushed it, and centre staff."""
    return push.by_id == user.pk or is_centre_staff(user)
