"""The team of a proposal: invitations by email, answers through the link, removal (PRODUCT §4.1).

Each service runs in one transaction, locks the rows it decides on and lists its side effects.
Acting in the wrong role is ``PermissionDenied``; anything a person can understand and act on
is a ``ValidationError`` (with the field ``email`` where one applies) that views show as it is.
"""

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_for_email
from notifications.enums import EmailKind, SecretLink
from notifications.models import OutboxMessage
from notifications.services import outbox_queue
from proposals.calls.hooks import conflict_sources_changed
from proposals.calls.rules import call_accepts_submissions
from proposals.submission.enums import TEAM_LIFECYCLE, ProposalStatus, TeamStatus
from proposals.submission.models import Proposal, TeamMember
from proposals.submission.rules import can_manage_team, is_pi
from proposals.submission.services.lifecycle import call_local

log = logging.getLogger(__name__)

# A team can still take a new member while the call is open and the proposal is a draft or
# submitted (the PI may have submitted while an invitation was out; it can be taken back).
JOINABLE = frozenset({ProposalStatus.DRAFT, ProposalStatus.SUBMITTED})


def invitation_url(member: TeamMember) -> SecretLink:
    """The absolute link of an invitation, as the email gives it: the invitee's secret."""
    return SecretLink(settings.SITE_URL + reverse("invitation", args=[member.token]))


def _invitation_context(member: TeamMember, proposal: Proposal) -> dict[str, Any]:
    """The context of the ``team-invitation`` email for ``member`` of ``proposal``."""
    return {
        "proposal": proposal,
        "call": proposal.call,
        "pi": proposal.pi,
        "member": member,
        "invitation_url": invitation_url(member),
        "deadline": call_local(proposal.call.closes_at, proposal.call),
        "has_account": member.user_id is not None,
    }


def _lock_proposal(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("call", "pi")
        .get(pk=proposal.pk)
    )


def _require_team_manager(user: User, proposal: Proposal, now: datetime) -> None:
    """PermissionDenied for anyone but the PI; a reason when the proposal is past changing."""
    if not is_pi(user, proposal):
        raise PermissionDenied(_("Only the principal investigator can change the team."))
    if not can_manage_team(user, proposal, now):
        raise ValidationError(
            _(
                "The team can change only while the proposal is a draft and the call is open "
                "(the call closes on %(deadline)s)."
            )
            % {"deadline": call_local(proposal.call.closes_at, proposal.call)},
            code="not_editable",
        )


def _already_invited(member: TeamMember) -> ValidationError:
    values = {"email": member.email}
    if member.status == TeamStatus.ACCEPTED:
        message = _("%(email)s is already a member of the team.")
    elif member.status == TeamStatus.DECLINED:
        message = _(
            "%(email)s was already invited and declined. Remove them from the list first to "
            "invite them again."
        )
    else:
        message = _("%(email)s is already invited. The email with the link was sent once.")
    return ValidationError({"email": message % values}, code="already_invited")


def _team_changed(proposal: Proposal) -> None:
    """Tell peer review that a submitted proposal's team changed: who is in conflict with it
    may have (PRODUCT §5.1). A draft's team is checked when it is submitted."""
    if proposal.status != ProposalStatus.DRAFT:
        conflict_sources_changed(proposal.call, [proposal.pk])


def team_invite(
    *, proposal: Proposal, by: User, email: str, now: datetime | None = None
) -> TeamMember:
    """Invite the person with ``email`` to join ``proposal`` as a co-investigator.

    Only the PI, while the proposal can change (``rules.can_manage_team``). Refused with a
    reason for the PI's own address, an address already on the list (whatever its answer) and
    an account that is already on the team under another address. The invitation is linked to
    the account that owns the address, if there is one; it stays ``invited`` until answered.

    Side effects: one TeamMember row (status invited, a secret token); one ``team-invitation``
    email to the invitee through the outbox (event ``team-invitation:<member id>``) with the
    link to accept or decline; conflicts of interest detected again for a submitted proposal;
    a log entry.
    """
    now = now or timezone.now()
    email = email.strip()
    with transaction.atomic():
        locked = _lock_proposal(proposal)
        _require_team_manager(by, locked, now)
        invitee = user_for_email(email)
        if email.lower() == locked.pi.email.lower() or invitee == locked.pi:
            raise ValidationError(
                {
                    "email": _(
                        "This is your own address: you lead this proposal as its principal "
                        "investigator already."
                    )
                },
                code="own_address",
            )
        existing = TeamMember.objects.filter(proposal=locked, email__iexact=email).first()
        if existing is not None:
            raise _already_invited(existing)
        if invitee is not None:
            other = TeamMember.objects.filter(proposal=locked, user=invitee).first()
            if other is not None:
                raise ValidationError(
                    {
                        "email": _(
                            "This address belongs to an account that is already on the list as "
                            "%(email)s."
                        )
                        % {"email": other.email}
                    },
                    code="already_invited",
                )
        try:
            with transaction.atomic():
                member = TeamMember.objects.create(
                    proposal=locked, email=email, user=invitee, invited_by=by
                )
        except IntegrityError as exc:
            # The same address, sent twice at once (a double click on a database without locks).
            existing = TeamMember.objects.filter(proposal=locked, email__iexact=email).first()
            if existing is None:
                raise
            raise _already_invited(existing) from exc
        outbox_queue(
            kind=EmailKind.TEAM_INVITATION,
            event=f"team-invitation:{member.pk}",
            recipient=email,
            user=invitee,
            context=_invitation_context(member, locked),
        )
        _team_changed(locked)
    log.info(
        "team member invited",
        extra={"ctx_proposal": locked.pk, "ctx_member": member.pk, "ctx_by": by.pk},
    )
    return member


def team_invitation_renew(message: OutboxMessage) -> dict[str, Any]:
    """The context of a failed ``team-invitation`` email again, with a new link: the outbox's
    retry of a secret message (``notifications.hooks``), whose body was erased when it failed.

    Refused with the reason when the invitation is gone or answered. Side effects: the
    invitation's token replaced (the old link stops working); a log entry.
    """
    member_id = message.event.removeprefix("team-invitation:")
    member = (
        TeamMember.objects.select_for_update(of=("self",))
        .select_related("proposal__call", "proposal__pi")
        .filter(pk=int(member_id))
        .first()
        if member_id.isdigit()
        else None
    )
    if member is None or member.status != TeamStatus.INVITED:
        raise ValidationError(
            _(
                "This invitation was answered or taken back since the email failed, so there "
                "is nothing to send again. The principal investigator can invite %(email)s again "
                "from the proposal's team page."
            )
            % {"email": message.recipient},
            code="invitation_gone",
        )
    member.token = TeamMember._meta.get_field("token").get_default()
    member.save(update_fields=["token"])
    log.info("team invitation renewed", extra={"ctx_member": member.pk})
    return _invitation_context(member, member.proposal)


def _answered(member: TeamMember) -> ValidationError:
    assert member.responded_at is not None  # set with the answer
    values = {"date": call_local(member.responded_at, member.proposal.call)}
    if member.status == TeamStatus.ACCEPTED:
        message = _("This invitation was already accepted on %(date)s.") % values
    else:
        message = _("This invitation was already declined on %(date)s.") % values
    return ValidationError(message, code="answered")


def join_refusal(proposal: Proposal, now: datetime) -> str | None:
    """Why nobody can join ``proposal`` now (withdrawn, or its call closed), or None."""
    if proposal.status == ProposalStatus.WITHDRAWN:
        return _(
            "The principal investigator has withdrawn this proposal, so it takes no new team "
            "members. You can still decline the invitation."
        )
    if proposal.status not in JOINABLE or not call_accepts_submissions(proposal.call, now):
        return _(
            "The call closed on %(deadline)s: the team of this proposal can no longer change. "
            "You can still decline the invitation."
        ) % {"deadline": call_local(proposal.call.closes_at, proposal.call)}
    return None


def _check_can_join(member: TeamMember, user: User, now: datetime) -> None:
    proposal = member.proposal
    refusal = join_refusal(proposal, now)
    if refusal is not None:
        raise ValidationError(refusal, code="closed")
    if is_pi(user, proposal):
        raise ValidationError(
            _("You are the principal investigator of this proposal already."), code="is_pi"
        )
    if proposal.team.filter(user=user).exclude(pk=member.pk).exists():
        raise ValidationError(
            _("You are already on the team of this proposal (invited under another address)."),
            code="already_member",
        )
    owner = member.user or user_for_email(member.email)
    if owner is not None and owner != user:
        raise ValidationError(
            _(
                "This invitation was sent to %(email)s, an address of another account. Sign in "
                "with that account to accept it."
            )
            % {"email": member.email},
            code="other_account",
        )


def team_respond(
    *, member: TeamMember, user: User | None, accept: bool, now: datetime | None = None
) -> TeamMember:
    """Answer an invitation: accept (signed in) or decline (anyone who holds the link).

    Accepting links ``user`` and is refused with the reason when the invitation was answered
    already, the proposal was withdrawn or its call has closed, ``user`` is the PI or already
    on the team, or the address belongs to another account. Declining is refused only when the
    invitation was answered already.

    Side effects: ``status`` accepted (with ``user``) or declined, ``responded_at``;
    conflicts of interest detected again for a submitted proposal; a log entry. An accepted
    member can see (and while it is a draft edit) the proposal at once.
    """
    now = now or timezone.now()
    if accept and (user is None or not user.is_authenticated):
        raise PermissionDenied(_("Sign in to accept the invitation."))
    with transaction.atomic():
        locked = (
            TeamMember.objects.select_for_update()
            .select_related("proposal__call", "proposal__pi")
            .get(pk=member.pk)
        )
        if locked.status != TeamStatus.INVITED:
            raise _answered(locked)
        if accept:
            assert user is not None  # refused above
            _check_can_join(locked, user, now)
            locked.user = user
        locked.responded_at = now
        try:
            with transaction.atomic():
                TEAM_LIFECYCLE.move(
                    locked,
                    TeamStatus.ACCEPTED if accept else TeamStatus.DECLINED,
                    also=("user", "responded_at"),
                )
        except IntegrityError as exc:
            # The same account accepted another invitation to this proposal at the same time.
            raise ValidationError(
                _("You are already on the team of this proposal."), code="already_member"
            ) from exc
        _team_changed(locked.proposal)
    for name in ("user", "status", "responded_at"):
        setattr(member, name, getattr(locked, name))
    log.info(
        "team invitation answered",
        extra={
            "ctx_proposal": locked.proposal_id,
            "ctx_member": locked.pk,
            "ctx_status": locked.status,
        },
    )
    return member


def team_remove(*, member: TeamMember, by: User, now: datetime | None = None) -> None:
    """Take a co-investigator or a pending invitation off the team of a proposal.

    Only the PI, while the proposal can change; the PI cannot remove themself. A removed member
    loses access at once; their link stops working.

    Side effects: the TeamMember row deleted; conflicts of interest detected again for a
    submitted proposal; a log entry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_proposal(member.proposal)
        _require_team_manager(by, locked, now)
        if member.user_id is not None and member.user_id == locked.pi_id:
            raise ValidationError(
                _("The principal investigator cannot be removed from their own proposal."),
                code="is_pi",
            )
        TeamMember.objects.filter(pk=member.pk, proposal=locked).delete()
        _team_changed(locked)
    log.info(
        "team member removed",
        extra={"ctx_proposal": locked.pk, "ctx_member": member.pk, "ctx_by": by.pk},
    )
