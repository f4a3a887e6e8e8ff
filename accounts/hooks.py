"""What the apps above accounts add to its pages or are told of, registered once at start-up
(docs/architecture.md, "hooks"); accounts never imports them.

``profile_sections``: the profile page shows, below the profile form, a section from each app
that registered one (``profile_section_register``): a function of the request returning the
section's HTML. The API app registers its tokens (PRODUCT §9). With nothing registered the
profile is the form alone.

``manager_role_changed``: someone gained or lost the call managers' powers in the admin (the
"Call managers" group or the superuser flag). The proposals app records it in the audit trail
(PRODUCT §9); with nothing registered nothing is recorded.

``identity_changed``: a person's affiliation or name changed. Peer review finds conflicts of
interest by them (PRODUCT §5.1): proposals registers
``proposals.review.services.conflict_detection.conflicts_refresh_for_person``;
``profile_update`` calls it in its transaction.
"""

from collections.abc import Callable
from typing import Protocol

from django.http import HttpRequest

from accounts.models import User

ProfileSection = Callable[[HttpRequest], str]

profile_sections: list[ProfileSection] = []


def profile_section_register(section: ProfileSection) -> None:
    if section not in profile_sections:
        profile_sections.append(section)


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


IdentityChanged = Callable[[User], None]

identity_listeners: list[IdentityChanged] = []


def identity_listener_register(listener: IdentityChanged) -> None:
    if listener not in identity_listeners:
        identity_listeners.append(listener)


def identity_changed(user: User) -> None:
    for listener in identity_listeners:
        listener(user)
