import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.append_only import AppendOnlyModel
from accounts.models import TIME_ZONE_CHOICES
from proposals.calls.enums import CallRoleKind, CallStatus, QuotaPolicy, ReviewVisibility


class CallQuerySet(models.QuerySet):
    def publicly_listed(self, now: datetime | None = None) -> "CallQuerySet":
        """Open and upcoming calls: not archived and the deadline still ahead."""
        now = now or timezone.now()
        return self.filter(archived_at__isnull=True, closes_at__gt=now)

    def past(self, now: datetime | None = None) -> "CallQuerySet":
        """Closed and decided calls: not archived and the deadline passed."""
        now = now or timezone.now()
        return self.filter(archived_at__isnull=True, closes_at__lte=now)


class Call(models.Model):
    """A call for proposals (PRODUCT §3). Dates are stored in UTC and shown in ``time_zone``."""

    code = models.CharField(
        _("code"), max_length=40, unique=True, help_text=_("e.g. JUPITER 2027-1")
    )
    name = models.CharField(_("name"), max_length=200)
    reference_prefix = models.CharField(
        _("reference prefix"),
        max_length=16,
        help_text=_("Start of proposal reference numbers, e.g. JUP27-1."),
    )
    description = models.TextField(_("description"), blank=True)
    guidelines = models.TextField(_("guidelines"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Berlin"
    )
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"), help_text=_("Strict deadline, to the second."))
    review_due_at = models.DateTimeField(_("reviews due"))
    reply_opens_at = models.DateTimeField(_("right of reply opens"), null=True, blank=True)
    reply_closes_at = models.DateTimeField(_("right of reply closes"), null=True, blank=True)
    decisions_due_at = models.DateTimeField(_("decisions due"))
    period_start = models.DateField(_("allocation period starts"))
    period_end = models.DateField(_("allocation period ends"))

    reviewers_per_proposal = models.PositiveSmallIntegerField(
        _("scientific reviewers per proposal"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    technical_review = models.BooleanField(_("technical review"), default=True)
    review_visibility = models.CharField(
        _("reviewers see other reviews"),
        max_length=16,
        choices=ReviewVisibility,
        default=ReviewVisibility.AFTER_OWN,
    )
    fundable_threshold = models.DecimalField(
        _("fundable threshold"),
        max_digits=5,
        decimal_places=2,
        default=3,
        help_text=_("Minimum weighted score for an award."),
    )
    right_of_reply = models.BooleanField(_("right of reply"), default=False)
    reply_length_limit = models.PositiveIntegerField(
        _("reply length limit (characters)"), default=3000
    )
    pdf_page_limit = models.PositiveSmallIntegerField(
        _("project description page limit"), default=10, validators=[MinValueValidator(1)]
    )
    pdf_size_limit_mb = models.PositiveSmallIntegerField(
        _("project description size limit (MB)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    quota_policy = models.CharField(
        _("quota policy"), max_length=16, choices=QuotaPolicy, default=QuotaPolicy.MONTHLY
    )
    last_reference_number = models.PositiveIntegerField(default=0, editable=False)
    reply_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    decisions_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the ``call-opened`` job (``proposals.services.reminders.call_status_changes``).
    opened_announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                name="call_code_ci_unique",
                violation_error_message=_("Another call already has this code."),
            ),
            models.UniqueConstraint(
                "reference_prefix",
                name="call_reference_prefix_unique",
                violation_error_message=_("Another call already uses this reference prefix."),
            ),
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="call_opens_before_closes",
                violation_error_message=_("The call must close after it opens."),
            ),
            models.CheckConstraint(
                condition=models.Q(closes_at__lte=models.F("review_due_at")),
                name="call_review_after_close",
                violation_error_message=_("Reviews cannot be due before the call closes."),
            ),
            models.CheckConstraint(
                condition=models.Q(review_due_at__lte=models.F("decisions_due_at")),
                name="call_decisions_after_review",
                violation_error_message=_("Decisions cannot be due before the reviews."),
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lt=models.F("period_end")),
                name="call_period_ordered",
                violation_error_message=_("The allocation period must end after it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(reply_opens_at__isnull=True, reply_closes_at__isnull=True)
                | models.Q(reply_opens_at__lt=models.F("reply_closes_at")),
                name="call_reply_window_ordered",
                violation_error_message=_(
                    "The right-of-reply window needs both ends, the opening before the closing."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def status_at(self, now: datetime) -> CallStatus:
        if self.archived_at:
            return CallStatus.ARCHIVED
        if self.decisions_published_at:
            return CallStatus.DECIDED
        if now < self.opens_at:
            return CallStatus.UPCOMING
        if now < self.closes_at:
            return CallStatus.OPEN
        return CallStatus.CLOSED

    @property
    def status(self) -> CallStatus:
        return self.status_at(timezone.now())


class CallCriterion(models.Model):
    """A review criterion of a call, scored on [scale_min, scale_max] and weighted."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=1)
    scale_min = models.PositiveSmallIntegerField(_("lowest score"), default=0)
    scale_max = models.PositiveSmallIntegerField(_("highest score"), default=5)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "name"],
                name="criterion_name_unique",
                violation_error_message=_("The call already has a criterion with this name."),
            ),
            models.CheckConstraint(
                condition=models.Q(scale_min__lt=models.F("scale_max")),
                name="criterion_scale_ordered",
                violation_error_message=_("The lowest score must be below the highest."),
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0),
                name="criterion_weight_pos",
                violation_error_message=_("The weight must be more than zero."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CallResource(models.Model):
    """A resource offered in a call, with its budget and per-proposal request limits.

    Refers to ``allocations.Resource`` lazily: ``proposals`` never imports ``allocations``.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="call_resources")
    resource = models.ForeignKey(
        "allocations.Resource",
        on_delete=models.PROTECT,
        related_name="call_resources",
        verbose_name=_("resource"),
    )
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2)
    min_request = models.DecimalField(
        _("minimum request"), max_digits=14, decimal_places=2, default=0
    )
    max_request = models.DecimalField(_("maximum request"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["resource__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "resource"],
                name="call_resource_unique",
                violation_error_message=_("This resource is already offered in the call."),
            ),
            models.CheckConstraint(
                condition=models.Q(budget__gt=0),
                name="budget_positive",
                violation_error_message=_("The budget must be more than zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(min_request__gte=0)
                & models.Q(min_request__lte=models.F("max_request")),
                name="request_limits_ordered",
                violation_error_message=_(
                    "The minimum request must be zero or more and not above the maximum."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(max_request__lte=models.F("budget")),
                name="max_request_within_budget",
                violation_error_message=_("The maximum request cannot exceed the budget."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call} · {self.resource}"


class CallRole(models.Model):
    """A person's role in one call: committee member or reviewer (PRODUCT §1).

    A manager adds people by email. When nobody has that address yet, the role waits with
    ``user`` empty and is claimed when someone verifies that address.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=16, choices=CallRoleKind)
    email = models.EmailField(_("email"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_roles",
    )
    max_load = models.PositiveSmallIntegerField(
        _("maximum reviews"), null=True, blank=True, help_text=_("Reviewers only.")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "email"]
        constraints = [
            models.UniqueConstraint("call", "role", Lower("email"), name="call_role_unique_email"),
            models.CheckConstraint(
                condition=models.Q(role__in=CallRoleKind.values), name="call_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_role_display()} · {self.call}"


class AuditEntry(AppendOnlyModel):
    """Who changed what, when, with the state before and after (PRODUCT §9). Append-only: the
    model refuses a change or a deletion, and so does the database (migration
    0008_audit_trail_complete), except that deleting a person clears their links.

    The names of the actor, the person concerned and the subject are kept as they were when
    the entry was written, so the trail reads the same after a role is removed or a name
    changes."""

    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    subject_type = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    subject_name = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=300, blank=True)
    # Whom the entry is about besides its subject: the reviewer of an assignment or conflict,
    # the holder of a role, the person who signed in.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person_name = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["call", "created_at"]),
            models.Index(fields=["created_at"], name="audit_created_at"),
            models.Index(fields=["action", "created_at"], name="audit_action_created_at"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_created_at"),
            models.Index(fields=["person", "created_at"], name="audit_person_created_at"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.subject_name or f'{self.subject_type}#{self.subject_id}'}"
