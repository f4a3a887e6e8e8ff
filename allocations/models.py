from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.append_only import AppendOnlyError, AppendOnlyModel, append_only_message
from allocations.enums import ChargeRule, LedgerKind, LoginSource, RequestKind, RequestStatus


class Resource(models.Model):
    """What is awarded: a machine or partition and its unit (PRODUCT §2)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Short name, e.g. jupiter-booster.")
    )
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. GPU-hours, core-hours, TB"))
    description = models.TextField(_("description"), blank=True)
    slurm_cluster = models.CharField(_("Slurm cluster"), max_length=64, blank=True)
    slurm_partition = models.CharField(_("Slurm partition"), max_length=64, blank=True)
    charge_rule = models.CharField(
        _("charge rule"), max_length=16, choices=ChargeRule, default=ChargeRule.GPU
    )
    charge_factor = models.DecimalField(
        _("charge factor"), max_digits=8, decimal_places=4, default=1
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(charge_factor__gt=0), name="resource_charge_factor_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(charge_rule__in=ChargeRule.values),
                name="resource_charge_rule_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


SLURM_ACCOUNT_RE = r"^[a-z][a-z0-9_-]{1,31}$"
# A Slurm (POSIX) user name: what ``slurm_sync`` may put into a shell command.
SLURM_USER_RE = r"^[a-z_][a-z0-9_.-]{0,31}$"


class Allocation(models.Model):
    """What an awarded proposal may use (PRODUCT §8): a Slurm account, its PI and members, and
    per resource the amounts in the append-only ledger. ``end`` can move by an approved
    extension; ``start`` is the call's period start."""

    proposal = models.OneToOneField(
        "proposals.Proposal", on_delete=models.PROTECT, related_name="allocation"
    )
    account = models.CharField(
        _("project account"),
        max_length=32,
        validators=[
            RegexValidator(
                SLURM_ACCOUNT_RE,
                _("2–32 lower-case letters, digits, dashes or underscores; a letter first."),
            )
        ],
        help_text=_("Used as the Slurm account name."),
    )
    pi = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_allocations"
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    # PRODUCT §8: an award of a proposal that continues an earlier allocation keeps its Slurm
    # account, so the data and jobs carry on. A chain of allocations shares one account; only
    # the first of a chain holds the name uniquely, and each allocation is continued once.
    continues = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="continued_by",
        verbose_name=_("continues"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="allocation_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(continues__isnull=True),
                name="allocation_account_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.account


class AllocationMember(models.Model):
    """A person who may run jobs on the account; the PI adds and removes members."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allocation_memberships"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "user"],
                condition=models.Q(removed_at__isnull=True),
                name="one_current_membership",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.allocation}"


class ClusterLogin(models.Model):
    """A person's login name on a Slurm cluster (PRODUCT §8): set by centre staff or taken from
    the identity provider's claim (``CLUSTER_LOGIN_CLAIM``), never derived from the email
    address. ``slurm_sync`` adds this name to the person's allocations on that cluster."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cluster = models.CharField(_("Slurm cluster"), max_length=64)
    login = models.CharField(
        _("login name"),
        max_length=32,
        validators=[
            RegexValidator(
                SLURM_USER_RE,
                _(
                    "1–32 lower-case letters, digits, dots, dashes or underscores; a letter or "
                    "an underscore first."
                ),
            )
        ],
    )
    source = models.CharField(
        _("set by"), max_length=16, choices=LoginSource, default=LoginSource.STAFF
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster", "login"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "login"], name="cluster_login_unique"),
            models.UniqueConstraint(fields=["user", "cluster"], name="one_login_per_cluster"),
        ]

    def __str__(self) -> str:
        return f"{self.login} on {self.cluster}"


class AllocationResource(models.Model):
    """A resource of an allocation: what was awarded at first. The balance is the ledger's."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="resources")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="+")
    awarded = models.DecimalField(_("awarded"), max_digits=14, decimal_places=2)
    # The quota's state as of ``state_on`` (``allocations.services.quota_state``), kept up to
    # date by every write to the ledger and by the hourly quota job, so that the managers'
    # filters (low priority, under-use) are a WHERE clause, not every allocation's months.
    state_on = models.DateField(_("state computed on"), null=True, blank=True)
    low_priority = models.BooleanField(_("at low priority this month"), default=False)
    use_percent = models.DecimalField(
        _("used, in per cent of the share due so far"),
        max_digits=9,
        decimal_places=0,
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["resource__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "resource"], name="allocation_resource_once"
            ),
            models.CheckConstraint(condition=models.Q(awarded__gt=0), name="awarded_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.allocation} · {self.resource}"


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(append_only_message(self.model, "updated"))

    def delete(self):
        raise AppendOnlyError(append_only_message(self.model, "deleted"))

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(append_only_message(self.model, "updated"))


class LedgerEntry(AppendOnlyModel):
    """One change to what an allocation may use. Never edited, never deleted: refused here, in
    the queryset and by database triggers (migration 0003). Balances are sums over entries."""

    # Indexed by the (allocation, resource, occurred_at) index below: every index is paid for by
    # each of the millions of usage rows a Slurm import appends.
    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, related_name="ledger", db_index=False
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=LedgerKind)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=4)
    reason = models.TextField(_("reason"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: only manual entries have an author
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("For usage: the member who ran the jobs."),
    )
    occurred_at = models.DateTimeField(_("when it counts"))
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Where it came from, e.g. the usage file for usage."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=LedgerKind.values), name="ledger_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=LedgerKind.AWARD, amount__gt=0)
                    | models.Q(kind=LedgerKind.FORFEIT, amount__lte=0)
                    # Usage is net: a re-reported job that shrank gives hours back (> 0).
                    | models.Q(kind__in=[LedgerKind.USAGE, LedgerKind.ADJUSTMENT])
                ),
                name="ledger_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=LedgerKind.ADJUSTMENT) | ~models.Q(reason=""),
                name="adjustment_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["allocation", "resource", "occurred_at"]),
            models.Index(
                fields=["author"], condition=models.Q(author__isnull=False), name="ledger_author"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.allocation}"


class AllocationRequest(models.Model):
    """The PI asks for more hours or a longer period (PRODUCT §8)."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("what"), max_length=16, choices=RequestKind)
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(
        _("additional amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    new_end = models.DateField(_("new end date"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus, default=RequestStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("answer"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=RequestKind.MORE_HOURS, resource__isnull=False, amount__gt=0)
                    | models.Q(kind=RequestKind.EXTENSION, new_end__isnull=False)
                ),
                name="request_has_what_it_asks",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.allocation}"


class FinalReport(models.Model):
    """The final report PDF, due within 8 weeks after the period ends (PRODUCT §8)."""

    allocation = models.OneToOneField(
        Allocation, on_delete=models.CASCADE, related_name="final_report"
    )
    file = models.FileField(max_length=200)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    pages = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Final report of {self.allocation}"


class UsageFile(models.Model):
    """One import of Slurm usage (PRODUCT §8): by the command, the directory job or the API.

    ``sha256`` is the content imported: unique, so content imported before is recognised and
    changes nothing, whoever brings it again and under whatever name. ``report`` is the whole
    report (every bad line by number, field and value), kept for staff.
    """

    class Outcome(models.TextChoices):
        CLEAN = "clean", _("Imported")
        PROBLEMS = "problems", _("Imported with problems")
        REFUSED = "refused", _("Not imported")

    path = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    cluster = models.CharField(max_length=100)
    imported_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.CLEAN)
    lines = models.PositiveBigIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    report_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        indexes = [models.Index(fields=["path"], name="usage_file_path")]

    def __str__(self) -> str:
        return self.path


def _plain_reference(to: type[models.Model]) -> models.ForeignKey:
    """A reference for the usage tables of the import's hot path: no constraint, no index."""
    return models.ForeignKey(
        to, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )


# A charge is kept exact as an integer in ten-thousandths of a unit-second: a count (GPUs or
# billing) × elapsed seconds × a charge factor of four decimal places, × CHARGE_SCALE.
CHARGE_SCALE = 10_000


class UsageRecord(models.Model):
    """One Slurm job as last reported (PRODUCT §8), keyed by cluster and job id.

    Written by the set-based import (``allocations.services.usage_import``) on the hot path: the
    references are plain columns (no foreign-key constraint, no index) and the only index is the
    key. ``charge`` is exact: ten-thousandths (``CHARGE_SCALE``) of the unit's seconds."""

    cluster = models.CharField(max_length=100)
    job_id = models.CharField(max_length=64)
    account = models.CharField(max_length=100)
    user_name = models.CharField(max_length=100)
    ended_on = models.DateField()
    charge = models.BigIntegerField(help_text="In ten-thousandths of the unit's seconds.")
    allocation = _plain_reference(Allocation)
    resource = _plain_reference(Resource)
    member_id = models.BigIntegerField(default=0, help_text="The member's user id; 0: not known.")
    usage_file_id = models.BigIntegerField(null=True, blank=True)
    line = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["cluster", "job_id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "job_id"], name="usage_record_job_once"),
            models.CheckConstraint(condition=models.Q(charge__gte=0), name="usage_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster}:{self.job_id}"


class UsageDay(models.Model):
    """The exact sum of the usage records of one allocation, resource, member and day: what the
    ledger's usage for that key is rounded from (hours to four places). The ledger holds the
    rounded total; this holds the exact one, so a correction writes exactly the difference."""

    allocation = _plain_reference(Allocation)
    resource = _plain_reference(Resource)
    member_id = models.BigIntegerField(default=0)
    day = models.DateField()
    charge = models.BigIntegerField()

    class Meta:
        ordering = ["allocation", "resource", "day", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "resource", "member_id", "day"], name="usage_day_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.allocation_id}/{self.resource_id}/{self.member_id} {self.day}"
