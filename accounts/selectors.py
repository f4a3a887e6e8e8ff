"""Reads about people and their profiles."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User


def profile_missing_fields(user: User) -> list[str]:
    """Human labels of the profile fields a proposal needs that ``user`` has not filled in.

    The order is the order of the profile form, so the banner reads like the form.
    """
    missing = []
    if not user.full_name.strip():
        missing.append(_("full name"))
    if not user.affiliation.strip():
        missing.append(_("affiliation"))
    if not user.country:
        missing.append(_("country"))
    if not user.expertise:
        missing.append(_("at least one field of expertise"))
    return missing


def profile_is_complete(user: User) -> bool:
    """Whether ``user`` may start a proposal as far as the profile is concerned."""
    return not profile_missing_fields(user)


def orcid_taken(*, orcid: str, exclude_user: User | None = None) -> bool:
    """Whether another account already holds ``orcid`` (a normalised iD)."""
    if not orcid:
        return False
    others = User.objects.filter(orcid=orcid)
    if exclude_user is not None and exclude_user.pk is not None:
        others = others.exclude(pk=exclude_user.pk)
    return others.exists()


def active_call_managers() -> list[User]:
    """Every active member of the call managers' group, by email: who the manager emails go
    to. One query."""
    return list(
        User.objects.filter(groups__name=settings.CALL_MANAGERS_GROUP, is_active=True)
        .distinct()
        .order_by("email", "pk")
    )


def user_for_email(email: str) -> User | None:
    """The account that owns ``email``: a verified address first, else the account's own email.

    An account whose address is still waiting for verification is not matched: whoever typed
    it has not shown that the mailbox is theirs. Such a role is claimed on verification.
    """
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    if address is not None:
        return address.user
    unverified = EmailAddress.objects.filter(email__iexact=email, verified=False)
    return (
        User.objects.filter(email__iexact=email).exclude(pk__in=unverified.values("user")).first()
    )
