"""Writes about people: their profile."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.hooks import identity_changed
from accounts.models import User

PROFILE_FIELDS = (
    "full_name",
    "affiliation",
    "country",
    "orcid",
    "expertise",
    "keywords",
    "time_zone",
    "language",
    "notify_new_calls",
)


def profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Save the profile fields present in ``data`` (cleaned by ProfileForm) on ``user``.

    Keys other than the profile fields are ignored. Side effects: one UPDATE of the user row,
    locked while it is written; when the affiliation or the name changed, the listeners of
    ``accounts.hooks`` hear it in the same transaction (peer review detects conflicts again).
    Raises ValidationError on ``orcid`` when another account took the same iD between the
    form's check and this write.
    """
    changes = {field: data[field] for field in PROFILE_FIELDS if field in data}
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        identity_before = (locked.affiliation, locked.full_name)
        for field, value in changes.items():
            setattr(locked, field, value)
        try:
            with transaction.atomic():
                locked.save(update_fields=list(changes))
        except IntegrityError as exc:
            if "orcid" not in str(exc).lower():
                raise
            raise ValidationError(
                {"orcid": _("Another Allot account already uses this ORCID iD.")},
                code="orcid_taken",
            ) from exc
        if (locked.affiliation, locked.full_name) != identity_before:
            identity_changed(locked)
    for field, value in changes.items():
        setattr(user, field, value)
    return user
