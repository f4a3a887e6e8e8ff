"""What accounts asks the apps above it (docs/architecture.md, "hooks").

``manager_role_changed``: someone gained or lost the call managers' powers in the admin (the
"Call managers" group or the superuser flag). The proposals app records it in the audit trail
(PRODUCT §9); with nothing registered nothing is recorded.
"""

from collections.abc import Callable
from typing import Protocol

from accounts.models import User


class ManagerRoleRecorder(Protocol):
    def __call__(self, *, user: User, by: User, before: list[str], after: list[str]) -> None: ...


_manager_role_recorders: list[Callable[..., None]] = []


def manager_role_recorder_register(recorder: ManagerRoleRecorder) -> None:
    if recorder not in _manager_role_recorders:
        _manager_role_recorders.append(recorder)


def manager_role_changed(*, user: User, by: User, before: list[str], after: list[str]) -> None:
    """``user``'s manager roles went from ``before`` to ``after`` (e.g. ["Call managers",
    "superuser"]), changed by ``by``."""
    for recorder in _manager_role_recorders:
        recorder(user=user, by=by, before=before, after=after)
