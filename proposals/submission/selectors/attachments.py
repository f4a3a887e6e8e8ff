"""Reads about the PDFs of a proposal (fetch-and-check in one step)."""

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from accounts.models import User
from proposals.submission.enums import AttachmentKind
from proposals.submission.models import Attachment, Proposal
from proposals.submission.selectors.proposals import get_proposal_for_user


@dataclass(frozen=True)
class ProposalAttachments:
    current: list[Attachment]
    replaced: list[Attachment]


def attachments_of(*, proposal: Proposal) -> ProposalAttachments:
    """The current files (description first) and the replaced or removed ones, newest first.

    One query, with the uploaders.
    """
    rows = sorted(
        proposal.attachments.select_related("uploaded_by"),
        key=lambda row: (row.kind != AttachmentKind.DESCRIPTION, row.uploaded_at, row.pk),
    )
    replaced = sorted(
        (row for row in rows if row.replaced_at is not None),
        key=lambda row: (row.replaced_at, row.pk),
        reverse=True,
    )
    return ProposalAttachments(
        current=[row for row in rows if row.replaced_at is None], replaced=replaced
    )


def get_attachment_for_user(*, user: User, proposal_pk: int, pk: int) -> Attachment:
    """An attachment of a proposal ``user`` may see, replaced ones included (versions link to
    them); 404 for anyone else, and for an id that belongs to another proposal."""
    proposal = get_proposal_for_user(user=user, pk=proposal_pk)
    attachment = get_object_or_404(Attachment, proposal=proposal, pk=pk)
    attachment.proposal = proposal
    return attachment
