"""API tokens and usage pushes (PRODUCT §9).

A token's secret is shown once to its owner and never stored: the table keeps its first
characters (``prefix``, to find the row) and the SHA-256 of the whole token (``digest``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from api.enums import PushState, TokenScope


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=TokenScope)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=TokenScope.values), name="api_token_known_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


def push_path(instance: "UsagePush", filename: str) -> str:
    return f"usage-pushes/{uuid.uuid4().hex}.txt"


class UsagePush(models.Model):
    """A sacct file pushed through the API, imported by a Celery job (``api.tasks``).

    Its report is the ``UsageFile`` row the import writes (``usage_file``), plus the counts
    kept here as JSON for the status endpoint."""

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="usage_pushes"
    )
    token = models.ForeignKey(ApiToken, null=True, on_delete=models.SET_NULL, related_name="+")
    cluster = models.CharField(max_length=64)
    file = models.FileField(upload_to=push_path, max_length=200)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=PushState, default=PushState.QUEUED)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    usage_file = models.ForeignKey(
        "allocations.UsageFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"usage push {self.pk} ({self.cluster})"
