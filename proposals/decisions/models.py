"""Decisions and awards (PRODUCT §6), and the audit trail every later step writes to."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.calls.models import Call, CallResource
from proposals.decisions.enums import AwardResponse, BookState, DecisionOutcome
from proposals.submission.models import Proposal


class Decision(models.Model):
    """The committee's decision on one proposal. Invisible to applicants until the call's
    decisions are published (``Call.decisions_published_at``); the amounts are AwardLines."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(_("decision"), max_length=24, choices=DecisionOutcome)
    message = models.TextField(_("message to the applicant"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(
        _("PI's answer"), max_length=16, choices=AwardResponse, default=AwardResponse.PENDING
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=DecisionOutcome.values),
                name="decision_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(response__in=AwardResponse.values),
                name="decision_response_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal}: {self.get_outcome_display()}"


class AwardLine(models.Model):
    """The amount of one resource awarded to one proposal."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="lines")
    call_resource = models.ForeignKey(
        CallResource, on_delete=models.PROTECT, related_name="award_lines"
    )
    amount = models.DecimalField(_("awarded amount"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["call_resource__resource__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "call_resource"], name="award_line_once_per_resource"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="award_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of {self.call_resource}"


def book_path(instance: "PanelBook", filename: str) -> str:
    return f"books/{instance.call_id}/{uuid.uuid4().hex}.pdf"


class PanelBook(models.Model):
    """One reader's copy of a call's book for the committee meeting (PRODUCT §9): built for
    them by a Celery job, without the proposals they are in conflict with; served only to
    them, by a checking view, from MEDIA_ROOT (never a public URL)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="books")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=BookState)
    file = models.FileField(upload_to=book_path, max_length=200, blank=True)
    proposals = models.PositiveIntegerField(_("proposals"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    requested_at = models.DateTimeField(_("requested at"))
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "reader"], name="one_book_per_reader"),
            models.CheckConstraint(
                condition=models.Q(state__in=BookState.values), name="book_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call} — {self.reader}"
