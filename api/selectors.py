"""Reads of the API app, with their permission checks (fetch-and-check in one step)."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from api.models import ApiToken, UsagePush
from api.rules import can_read_push


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """Every token of ``user``, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def get_token_of_owner(*, user: User, pk: int) -> ApiToken:
    """``user``'s token, or 404 (someone else's token is not theirs to know of)."""
    token = ApiToken.objects.filter(pk=pk, user=user).first() if user.is_authenticated else None
    if token is None:
        raise Http404("No such token.")
    return token


def get_push_for_user(*, user: User, pk: int) -> UsagePush:
    """The push for the person who pushed it and for centre staff; 404 for anyone else."""
    push = UsagePush.objects.select_related("usage_file").filter(pk=pk).first()
    if push is None or not can_read_push(user, push):
        raise Http404("No such usage push.")
    return push
