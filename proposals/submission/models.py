"""Proposals and what belongs to them (PRODUCT §4)."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.append_only import AppendOnlyModel
from accounts.enums import ScienceField
from proposals.calls.models import Call, CallResource
from proposals.submission.enums import AttachmentKind, ProposalStatus, TeamStatus

acronym_validator = RegexValidator(
    r"^[A-Za-z0-9-]+$", _("Use only letters, digits and dashes."), code="acronym"
)


class ProposalQuerySet(models.QuerySet):
    def with_member(self, user) -> "ProposalQuerySet":
        """Proposals the user leads or has accepted to join."""
        if not user.is_authenticated:
            return self.none()
        member_of = TeamMember.objects.filter(user=user, status=TeamStatus.ACCEPTED).values(
            "proposal_id"
        )
        # One UNION of two index scans: ``pi = … OR pk IN (…)`` makes PostgreSQL read every
        # proposal and every user (tests/test_index_use.py).
        led = Proposal.objects.filter(pi=user).values("pk")
        return self.filter(pk__in=led.union(member_of))


class Proposal(models.Model):
    """A proposal to a call. ``status``, ``reference`` and ``lock_version`` change only
    through services; ``lock_version`` grows by one with every saved edit, so a save based on
    an older version is merged or refused (``proposals.submission.forms.section_editor``),
    never silently overwriting someone else's change."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="proposals")
    pi = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_proposals",
        verbose_name=_("principal investigator"),
    )
    status = models.CharField(
        _("status"), max_length=24, choices=ProposalStatus, default=ProposalStatus.DRAFT
    )
    # PRODUCT §8: the earlier awarded proposal of the same PI whose allocation this one
    # continues (chosen at start, from ``hooks.continuable``); its award keeps that Slurm account.
    continues = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("continues"),
    )
    # NULL until the first submission: many drafts, each reference unique once given.
    reference = models.CharField(_("reference"), max_length=32, null=True, blank=True)  # noqa: DJ001
    reference_number = models.PositiveIntegerField(null=True, blank=True, editable=False)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    # General (PRODUCT §4.1)
    title = models.CharField(_("title"), max_length=200, blank=True)
    acronym = models.CharField(
        _("acronym"), max_length=16, blank=True, validators=[acronym_validator]
    )
    abstract = models.TextField(_("abstract"), max_length=2000, blank=True)
    field = models.CharField(_("field of science"), max_length=8, choices=ScienceField, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    pi_affiliation = models.CharField(_("PI's affiliation"), max_length=300, blank=True)
    pi_country = CountryField(_("PI's country"), blank=True)
    previous_allocations = models.TextField(_("previous allocations and results"), blank=True)
    excluded_reviewers = models.TextField(
        _("reviewers to exclude"),
        blank=True,
        help_text=_("Names or email addresses, one per line, with the reason."),
    )

    # Technical data
    codes = models.TextField(_("codes and versions"), blank=True)
    job_size = models.CharField(_("typical job size"), max_length=200, blank=True)
    wall_time = models.CharField(_("typical wall time"), max_length=100, blank=True)
    memory = models.CharField(_("memory per job"), max_length=200, blank=True)
    storage = models.TextField(_("storage and data management"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_attempted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Since a refused submission, sections show problems.")
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "call",
                Lower("acronym"),
                condition=~models.Q(acronym=""),
                name="proposal_acronym_unique_in_call",
                violation_error_message=_("Another proposal to this call uses this acronym."),
            ),
            models.UniqueConstraint("reference", name="proposal_reference_unique"),
            models.UniqueConstraint(
                fields=["call", "reference_number"], name="proposal_reference_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ProposalStatus.values), name="proposal_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN])
                | models.Q(reference__isnull=False),
                name="proposal_submitted_has_reference",
            ),
        ]
        indexes = [models.Index(fields=["call", "status"])]

    def __str__(self) -> str:
        return self.reference or self.acronym or self.title or f"Draft #{self.pk}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


# The proposal's own fields by section, in the order of the form: what the section editors
# change, what every submitted version freezes and shows, and (less the optional ones) what
# must be filled in before a submission.
GENERAL_FIELDS = (
    "title",
    "acronym",
    "abstract",
    "field",
    "keywords",
    "pi_affiliation",
    "pi_country",
    "previous_allocations",
    "excluded_reviewers",
)
TECHNICAL_FIELDS = ("codes", "job_size", "wall_time", "memory", "storage")
PROPOSAL_FIELDS = GENERAL_FIELDS + TECHNICAL_FIELDS
OPTIONAL_FIELDS = frozenset({"previous_allocations", "excluded_reviewers"})


class TeamMember(models.Model):
    """A co-investigator invited by email; they join by accepting through the link."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="team")
    email = models.EmailField(_("email"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="team_memberships",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TeamStatus, default=TeamStatus.INVITED
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "proposal",
                Lower("email"),
                name="team_member_email_unique",
                violation_error_message=_("This person is already invited to this proposal."),
            ),
            models.UniqueConstraint(
                fields=["proposal", "user"],
                condition=models.Q(user__isnull=False),
                name="team_member_user_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TeamStatus.values), name="team_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=TeamStatus.ACCEPTED) | models.Q(user__isnull=False),
                name="team_accepted_has_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_status_display()})"


class ResourceRequest(models.Model):
    """The amount of one of the call's resources a proposal asks for, with its reason."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="requests")
    call_resource = models.ForeignKey(
        CallResource, on_delete=models.PROTECT, related_name="requests"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    justification = models.TextField(_("justification"), blank=True)

    class Meta:
        ordering = ["call_resource__resource__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "call_resource"], name="one_request_per_resource"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="request_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.call_resource.resource.unit}"


class ScalingPoint(models.Model):
    """One row of the scaling table: on this many GPUs a step takes this long."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="scaling")
    gpus = models.PositiveIntegerField(_("GPUs"))
    seconds_per_step = models.DecimalField(_("time per step (s)"), max_digits=12, decimal_places=4)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "gpus"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "gpus"], name="scaling_gpus_unique"),
            models.CheckConstraint(condition=models.Q(gpus__gt=0), name="scaling_gpus_positive"),
            models.CheckConstraint(
                condition=models.Q(seconds_per_step__gt=0), name="scaling_time_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gpus} GPUs: {self.seconds_per_step} s/step"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the uploader's file name: it is kept in original_name for the download.
    return f"proposals/{instance.proposal_id}/{uuid.uuid4().hex}.pdf"


class Attachment(models.Model):
    """An uploaded PDF. Replaced files are kept (``replaced_at``) because submitted versions
    refer to them; files live under MEDIA_ROOT and are served only by a checking view."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    pages = models.PositiveIntegerField(_("pages"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=models.Q(kind=AttachmentKind.DESCRIPTION, replaced_at__isnull=True),
                name="one_current_description",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AttachmentKind.values), name="attachment_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class ProposalVersion(AppendOnlyModel):
    """One submission, frozen: a snapshot of every field, the team, the requests, the scaling
    table and the attachments' ids. Never changed after it is written."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.proposal} v{self.number}"
