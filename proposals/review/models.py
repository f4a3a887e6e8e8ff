"""Peer review (PRODUCT §5): conflicts of interest, assignments with their reviews, replies."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.calls.models import CallCriterion, CallResource
from proposals.review.enums import (
    ConflictReason,
    ConflictStatus,
    Recommendation,
    ReviewKind,
    ReviewState,
    TechnicalVerdict,
)
from proposals.submission.models import Proposal


class Conflict(models.Model):
    """A conflict of interest between a reviewer and a proposal, detected or declared.

    A confirmed or declared conflict makes an active review of the pair impossible: the
    services refuse it, and so does the database (triggers in migration 0005, both ways).
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="conflicts")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_conflicts"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=ConflictReason)
    status = models.CharField(_("status"), max_length=16, choices=ConflictStatus)
    detail = models.TextField(_("detail"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "reviewer", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "reviewer", "reason"], name="conflict_once_per_reason"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=ConflictReason.values), name="conflict_reason_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ConflictStatus.values), name="conflict_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} × {self.proposal}: {self.get_reason_display()}"


class Review(models.Model):
    """One reviewer's assignment to one proposal and, once written, the review itself.

    ``state`` moves invited → accepted → submitted, or to declined / removed; a manager can
    reopen a submitted review (back to accepted). Scores are in ReviewScore, one per criterion.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=ReviewKind, default=ReviewKind.SCIENTIFIC
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ReviewState, default=ReviewState.INVITED
    )
    due_at = models.DateTimeField(_("due"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    no_conflict_declared_at = models.DateTimeField(null=True, blank=True)

    # Scientific review (PRODUCT §5.2)
    comment_to_applicant = models.TextField(_("comment to the applicant"), blank=True)
    confidential_comment = models.TextField(_("confidential comment to the committee"), blank=True)
    recommendation = models.CharField(
        _("recommendation"), max_length=16, choices=Recommendation, blank=True
    )
    # Technical review
    verdict = models.CharField(
        _("technical verdict"), max_length=24, choices=TechnicalVerdict, blank=True
    )
    lock_version = models.PositiveIntegerField(default=1, editable=False)
    saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["proposal", "kind", "assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "reviewer", "kind"], name="review_once_per_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ReviewState.values), name="review_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReviewKind.values), name="review_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(state=ReviewState.SUBMITTED)
                | models.Q(submitted_at__isnull=False),
                name="review_submitted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["reviewer", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.proposal} by {self.reviewer}"


class ReviewScore(models.Model):
    """The score of one criterion of the call in one scientific review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(CallCriterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField(_("score"))

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="score_once_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.value}"


class TechnicalRecommendation(models.Model):
    """The amount of a resource the technical reviewer recommends for the proposal."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="recommended")
    call_resource = models.ForeignKey(CallResource, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("recommended amount"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "call_resource"], name="recommendation_once_per_resource"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="recommendation_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_resource}: {self.amount}"


class Reply(models.Model):
    """The applicant's one answer to the reviews during the right-of-reply window (§5.4)."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="reply")
    text = models.TextField(_("reply"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"Reply to the reviews of {self.proposal}"
