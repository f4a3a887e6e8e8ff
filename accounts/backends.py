"""The authentication backends, reading the request's user together with whether they hold
the call managers' role (``accounts.rules.has_manager_role`` asks on every page): one query
instead of two.

Django's and allauth's backends are kept in the settings after these, so that sessions signed
in before still find theirs.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db.models import Exists, OuterRef

from accounts.models import User


class _WithRole:
    """``get_user`` reading the user with ``_is_call_manager`` in the same query."""

    def get_user(self, user_id):
        in_group = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name=settings.CALL_MANAGERS_GROUP
        )
        user = (
            User._default_manager.annotate(_is_call_manager=Exists(in_group))
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithRole, DjangoModelBackend):
    pass


class AuthenticationBackend(_WithRole, AllauthBackend):
    pass
