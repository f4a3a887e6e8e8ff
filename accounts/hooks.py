"""What the apps above accounts want to hear about a person, registered once at start-up.

Peer review finds conflicts of interest by the affiliation and the name in people's profiles
(PRODUCT §5.1), but accounts may not import proposals (``lint-imports`` keeps the layers).
Proposals registers ``proposals.review.services.conflicts.conflicts_refresh_for_person`` here
in ``ProposalsConfig.ready``; ``profile_update`` calls it, in its transaction, when an
affiliation or a name changed. ``tests/proposals/test_hooks.py`` checks it is registered.
"""

from collections.abc import Callable

from accounts.models import User

IdentityChanged = Callable[[User], None]

identity_listeners: list[IdentityChanged] = []


def identity_listener_register(listener: IdentityChanged) -> None:
    if listener not in identity_listeners:
        identity_listeners.append(listener)


def identity_changed(user: User) -> None:
    for listener in identity_listeners:
        listener(user)
