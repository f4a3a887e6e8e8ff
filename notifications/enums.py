from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


RETRYABLE = {MessageStatus.FAILED}


# PRODUCT §7: a worker claims a queued message and sends it; a temporary failure queues it
# again, a permanent one (or the last attempt) fails it until a manager retries; the upkeep
# job returns a message stuck in sending (a killed worker) to the queue.
MESSAGE_LIFECYCLE = Lifecycle(
    "outbox message",
    "status",
    {
        MessageStatus.QUEUED: frozenset({MessageStatus.SENDING}),
        MessageStatus.SENDING: frozenset(
            {MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.FAILED}
        ),
        MessageStatus.FAILED: frozenset({MessageStatus.QUEUED}),
    },
)


class EmailKind(models.TextChoices):
    """Every kind of email Allot writes itself: one folder ``templates/emails/<kind>/`` each,
    with ``subject.txt``, ``body.txt`` and ``body.html``. (django-allauth's account emails are
    rendered by allauth and queued as ``account-<template>``: not listed here; which of them
    carry a secret is declared in ``notifications.adapters``.)

    A kind whose body holds a link that acts for its recipient (a token) is listed in
    ``SECRET_KINDS`` below: its body is shown to nobody and erased once sent (PRODUCT §1.1).
    """

    # Calls
    CALL_OPENED = "call-opened", _("A call opened")
    CALL_ROLE_ADDED = "call-role-added", _("A role in a call")
    # Submission
    TEAM_INVITATION = "team-invitation", _("Invitation to a proposal's team")
    DEADLINE_REMINDER = "deadline-reminder", _("Deadline reminder")
    PROPOSAL_SUBMITTED = "proposal-submitted", _("Proposal submitted")
    PROPOSAL_WITHDRAWN = "proposal-withdrawn", _("Proposal withdrawn")
    # Review
    REVIEW_ASSIGNED = "review-assigned", _("Review assigned")
    REVIEW_REMINDER = "review-reminder", _("Review reminder")
    REVIEW_OVERDUE = "review-overdue", _("Review overdue")
    REVIEWS_COMPLETE = "reviews-complete", _("All reviews in")
    REPLY_OPEN = "reply-open", _("Right of reply open")
    REPLY_CLOSING = "reply-closing", _("Right of reply closing")
    # Decisions and awards
    DECISION_PUBLISHED = "decision-published", _("Decision published")
    AWARD_DECLINED = "award-declined", _("Award declined")
    # Allocations
    ALLOCATION_ACTIVE = "allocation-active", _("Allocation active")
    ALLOCATION_USAGE = "allocation-usage", _("Allocation usage")
    ALLOCATION_LOWPRIO = "allocation-lowprio", _("Allocation at low priority")
    ALLOCATION_EXPIRING = "allocation-expiring", _("Allocation ending")
    ALLOCATION_REPORT_DUE = "allocation-report-due", _("Final report due")
    ALLOCATION_REQUEST_NEW = "allocation-request-new", _("New allocation request")
    ALLOCATION_REQUEST_DECIDED = "allocation-request-decided", _("Allocation request decided")
    # The outbox's own example, which its tests send: copy its folder to add a kind.
    OUTBOX_EXAMPLE = "outbox-example", _("Example")

    @property
    def carries_secret(self) -> bool:
        return self in SECRET_KINDS


# Kinds whose link is a secret of its recipient (PRODUCT §1.1: read by the recipient only).
# Their context must pass that link as a ``SecretLink``; ``outbox_queue`` refuses a
# ``SecretLink`` in any kind not listed here, so a new token-bearing email cannot be queued
# as an ordinary, readable one.
SECRET_KINDS = frozenset({EmailKind.TEAM_INVITATION})


class SecretLink(str):
    """A link that acts for whoever holds it (an invitation, a reset): only for its recipient.

    Services that build such a link return this type; the outbox checks that the email it
    goes into is of a kind that carries a secret.
    """

    __slots__ = ()
