"""Cluster login names (PRODUCT §8): each person's login on each Slurm cluster, set by centre
staff or taken from the identity provider's claim, unique on the cluster, never derived from
the email address."""

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.rules import is_call_manager
from allocations.enums import LoginSource
from allocations.models import SLURM_USER_RE, ClusterLogin, Resource
from proposals.calls.audit import audit_record

logger = logging.getLogger(__name__)

_LOGIN = re.compile(SLURM_USER_RE)


def _taken_message(other: ClusterLogin) -> str:
    return _("%(login)s is already the login of %(name)s on %(cluster)s.") % {
        "login": other.login,
        "name": other.user.display_name,
        "cluster": other.cluster,
    }


def cluster_login_set(*, user: User, cluster: str, login: str, by: User) -> ClusterLogin | None:
    """Set (or, with an empty ``login``, remove) ``user``'s login name on ``cluster``.

    Refusals: PermissionDenied unless ``by`` is a call manager; ValidationError (on ``login``)
    when the name is not a valid Slurm user name or is another person's on that cluster (also
    when two staff save it at once: the unique key decides).

    Side effects: the ClusterLogin row created, changed or deleted (source staff); an audit
    entry ``cluster_login.set``.
    """
    if not is_call_manager(by):
        raise PermissionDenied(_("Only centre staff set cluster logins."))
    login = login.strip()
    if login and not _LOGIN.match(login):
        raise ValidationError(
            {
                "login": _(
                    "A login name is 1–32 lower-case letters, digits, dots, dashes or "
                    "underscores, with a letter or an underscore first."
                )
            },
            code="invalid_login",
        )
    with transaction.atomic():
        current = (
            ClusterLogin.objects.select_for_update().filter(user=user, cluster=cluster).first()
        )
        before = current.login if current else ""
        if not login:
            if current is not None:
                current.delete()
            row = None
        else:
            other = (
                ClusterLogin.objects.filter(cluster=cluster, login=login)
                .exclude(user=user)
                .select_related("user")
                .first()
            )
            if other is not None:
                raise ValidationError({"login": _taken_message(other)}, code="login_taken")
            row = current or ClusterLogin(user=user, cluster=cluster)
            row.login, row.source, row.set_by = login, LoginSource.STAFF, by
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError as error:
                raise ValidationError(
                    {
                        "login": _("%(login)s was just given to someone else on %(cluster)s.")
                        % {"login": login, "cluster": cluster}
                    },
                    code="login_taken",
                ) from error
        audit_record(
            subject=user,
            action="cluster_login.set",
            actor=by,
            before={"cluster": cluster, "login": before},
            after={"cluster": cluster, "login": login},
        )
    return row


def claim_clusters() -> list[str]:
    """The clusters the identity provider's login claim names a login on."""
    if settings.CLUSTER_LOGIN_CLAIM_CLUSTERS:
        return list(settings.CLUSTER_LOGIN_CLAIM_CLUSTERS)
    return sorted(
        set(Resource.objects.exclude(slurm_cluster="").values_list("slurm_cluster", flat=True))
    )


def cluster_logins_from_claims(*, user: User, claims: dict[str, Any]) -> list[ClusterLogin]:
    """Take ``user``'s login name from the identity provider's claim ``CLUSTER_LOGIN_CLAIM``
    (called at every sign-in through OpenID Connect).

    A login staff set is kept; a claim that is no valid login name, or a name another person has
    on the cluster, is logged and skipped (the sign-in goes on).

    Side effects: ClusterLogin rows (source identity provider) created or renamed.
    """
    claim = settings.CLUSTER_LOGIN_CLAIM
    value = claims.get(claim) if claim else None
    if not isinstance(value, str) or not _LOGIN.match(value):
        if claim and value is not None:
            logger.warning("Claim %s of user %s is no valid login name.", claim, user.pk)
        return []
    changed = []
    for cluster in claim_clusters():
        with transaction.atomic():
            row = (
                ClusterLogin.objects.select_for_update().filter(user=user, cluster=cluster).first()
            )
            if row is not None and (row.source == LoginSource.STAFF or row.login == value):
                continue
            if (
                ClusterLogin.objects.filter(cluster=cluster, login=value)
                .exclude(user=user)
                .exists()
            ):
                logger.warning(
                    "Login %s of user %s on %s is another person's; not taken.",
                    value,
                    user.pk,
                    cluster,
                )
                continue
            row = row or ClusterLogin(user=user, cluster=cluster)
            row.login, row.source, row.set_by = value, LoginSource.IDENTITY_PROVIDER, None
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                logger.warning("Login %s on %s was taken meanwhile; not taken.", value, cluster)
                continue
            changed.append(row)
    return changed
