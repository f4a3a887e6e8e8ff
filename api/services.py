"""Writes of the API app: tokens (PRODUCT §9) and usage pushes (PRODUCT §8).

A token is ``allot_<prefix>_<secret>``: ``prefix`` (12 random characters) finds the row, the
SHA-256 of the whole token is compared in constant time. Only the owner sees the token, once,
when it is created.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from allocations.models import Resource, UsageFile
from allocations.services.usage_import import usage_import
from api.enums import FINISHED_PUSH_STATES, PushState
from api.models import ApiToken, UsagePush
from api.rules import may_choose_scope, may_create_tokens

log = logging.getLogger(__name__)

TOKEN_START = "allot_"  # noqa: S105 (the public start of every token, no secret)
PREFIX_LENGTH = 12
# How often ``last_used_at`` is written for a busy token: once a minute is enough to read.
LAST_USE_PRECISION = timedelta(minutes=1)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # shown once, never stored


def token_create(
    *, user: User, name: str, scope: str, days: int, now: datetime | None = None
) -> NewToken:
    """A new token of ``user``. Refused (PermissionDenied) for a manager whose session has
    not passed the second factor, and for the usage scope unless ``user`` is centre staff.
    Side effects: one row."""
    now = now or timezone.now()
    if not may_create_tokens(user):
        raise PermissionDenied(
            _("Confirm your second factor before creating a token: it carries your powers.")
        )
    if not may_choose_scope(user, scope):
        raise PermissionDenied(_("Only centre staff may create tokens that push usage."))
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    raw = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=token_digest(raw),
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return NewToken(token=token, raw=raw)


def token_revoke(*, token: ApiToken, by: User, now: datetime | None = None) -> None:
    """Revoke ``token`` (its owner only; PermissionDenied otherwise). Revoking twice keeps the
    first time. Side effects: ``revoked_at``."""
    if token.user_id != by.pk:
        raise PermissionDenied
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def _prefix_of(raw: str) -> str | None:
    if not raw.startswith(TOKEN_START):
        return None
    prefix, _sep, rest = raw[len(TOKEN_START) :].partition("_")
    if len(prefix) != PREFIX_LENGTH or not rest:
        return None
    return prefix


def token_authenticate(*, raw: str, now: datetime | None = None) -> ApiToken | None:
    """The live token ``raw`` stands for, with its active owner; None when it is unknown,
    revoked or expired. Records the use (at most once a minute). Side effects:
    ``last_used_at``."""
    prefix = _prefix_of(raw)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    now = now or timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def known_clusters() -> list[str]:
    return sorted(set(Resource.objects.values_list("slurm_cluster", flat=True)) - {""})


def usage_push_create(
    *,
    by: User,
    cluster: str,
    content: IO[bytes],
    name: str = "",
    token: ApiToken | None = None,
    now: datetime | None = None,
) -> UsagePush:
    """Keep a pushed sacct file and queue its import (``api.usage_push_import`` after commit).

    The caller checks that ``by`` is centre staff. Refuses (ValidationError) a cluster no
    resource is on, as ``manage.py import_usage`` does. Side effects: the file under
    ``MEDIA_ROOT/usage-pushes/``, one row, one task."""
    clusters = known_clusters()
    if cluster not in clusters:
        known = ", ".join(clusters) or _("none yet")
        raise ValidationError(
            _("No resource is on Slurm cluster %(cluster)s. Clusters of the resources: %(known)s.")
            % {"cluster": cluster, "known": known}
        )
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: content.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
        if size > settings.API_USAGE_MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(limit)d bytes (API_USAGE_MAX_BYTES).")
                % {"limit": settings.API_USAGE_MAX_BYTES}
            )
    content.seek(0)
    from api.tasks import usage_push_import

    with transaction.atomic():
        push = UsagePush(
            by=by,
            token=token,
            cluster=cluster,
            original_name=name[:255],
            size=size,
            sha256=digest.hexdigest(),
            created_at=now or timezone.now(),
        )
        push.file.save("push.txt", File(content), save=False)
        push.save()
        transaction.on_commit(lambda: usage_push_import.delay(push_id=push.pk))
    return push


def _report_of(report) -> dict:
    """The import's report as JSON: its counts, its problems (line, field, message), its
    text."""
    problems = [
        {
            "line": problem.line,
            "field": problem.field,
            "message": problem.message,
            "warning": bool(getattr(problem, "warning", False)),
        }
        for problem in getattr(report, "problems", [])
    ]
    skipped = getattr(report, "skipped", {}) or {}
    return {
        "lines_read": int(getattr(report, "lines_read", 0)),
        "charged": int(getattr(report, "charged", 0)),
        "corrected": int(getattr(report, "corrected", 0)),
        "duplicates": int(getattr(report, "duplicates", 0)),
        "skipped": {str(reason): int(count) for reason, count in dict(skipped).items()},
        "problems": problems,
        "problems_left_out": int(getattr(report, "problems_left_out", 0)),
        "already_imported": bool(getattr(report, "already_imported", False)),
        "text": str(report),
    }


def usage_push_run(*, push_id: int, now: datetime | None = None) -> UsagePush | None:
    """Import a queued push with the usage import (``allocations.services.usage_import``),
    once: a push already done is left alone, and a run killed half-way left nothing (one
    transaction), so running again is safe. The import records the file as a ``UsageFile``
    under ``api-push:<id>``; content imported before, by any route, is not imported again.
    Side effects: ledger entries, the ``UsageFile`` row, the push's state and report."""
    with transaction.atomic():
        push = UsagePush.objects.select_for_update().filter(pk=push_id).first()
        if push is None or push.state in FINISHED_PUSH_STATES:
            return push
        push.state = PushState.RUNNING
        push.started_at = now or timezone.now()
        try:
            with push.file.open("rb") as f:
                lines = (raw.decode("utf-8", errors="replace") for raw in f)
                report = usage_import(
                    lines=lines,
                    cluster=push.cluster,
                    source=f"api-push:{push.pk}",
                    sha256=push.sha256 or None,
                )
        except OSError:
            log.exception("usage push not readable", extra={"ctx_push": push.pk})
            push.state = PushState.FAILED
            push.report = {"text": "The pushed file could not be read."}
        else:
            # The import's own record of the file: this push's, or the earlier import of the
            # same content (then nothing was imported again).
            push.usage_file = (
                UsageFile.objects.filter(path=f"api-push:{push.pk}").first()
                or UsageFile.objects.filter(sha256=push.sha256).first()
                if push.sha256
                else UsageFile.objects.filter(path=f"api-push:{push.pk}").first()
            )
            push.state = PushState.DONE
            push.report = _report_of(report)
        push.finished_at = now or timezone.now()
        push.save()
    return push
