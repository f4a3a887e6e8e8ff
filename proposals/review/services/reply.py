"""The right of reply (PRODUCT §5.4): a call manager opens the window, each PI answers once.

Refusals someone can act on are ``ValidationError``; acting in the wrong role is
``PermissionDenied``.
"""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.formatting import format_instant
from accounts.models import User
from notifications.enums import EmailKind
from notifications.services import outbox_queue_each
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.review.models import Reply
from proposals.review.selectors.reply import ReplyWindow, reply_window, review_progress
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import Proposal
from proposals.submission.rules import is_pi
from proposals.submission.services.lifecycle import call_local

# How long the window stays open when the call has no planned closing date.
DEFAULT_REPLY_DAYS = 14


def reply_window_open(*, call: Call, by: User, now: datetime | None = None) -> int:
    """Open the call's right of reply now and tell every PI of a proposal in competition.

    Refusals: PermissionDenied unless ``by`` manages the call; ValidationError when the call
    has no right of reply, the window is already open or over, the decisions are published,
    the call's deadline has not passed, the planned closing date has passed, or reviews are
    still missing (an assigned review not submitted, or a proposal in competition without a
    submitted scientific review).

    Side effects: the call's ``reply_opened_at`` = now; ``reply_closes_at`` = now + 14 days
    (to the minute) when it was empty, and ``reply_opens_at`` = now when it was empty (so the
    planned window keeps both ends); one ``reply-open`` email per proposal in competition to
    its PI (event ``reply-open:<proposal id>``). Returns the number of PIs told.
    """
    now = now or timezone.now()
    if not can_manage_call(by, call):
        raise PermissionDenied(_("Only call managers can open the right of reply."))
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        _check_can_open(locked, now)
        fields = ["reply_opened_at", "updated_at"]
        locked.reply_opened_at = now
        if locked.reply_closes_at is None:
            # To the minute: the date is printed in every email and on the pages.
            closes = now + timedelta(days=DEFAULT_REPLY_DAYS)
            locked.reply_closes_at = closes.replace(second=0, microsecond=0)
            fields.append("reply_closes_at")
        if locked.reply_opens_at is None:
            locked.reply_opens_at = now
            fields.append("reply_opens_at")
        locked.save(update_fields=fields)
        proposals = list(
            Proposal.objects.filter(call=locked, status__in=IN_COMPETITION)
            .select_related("pi")
            .order_by("reference_number", "pk")
        )
        context = {
            "call": locked,
            "closes_local": call_local(locked.reply_closes_at, locked),
            "closes_short": format_instant(locked.reply_closes_at, locked.tz),
            "limit": locked.reply_length_limit,
        }
        for proposal in proposals:
            outbox_queue_each(
                kind=EmailKind.REPLY_OPEN,
                event=f"reply-open:{proposal.pk}",
                people=[proposal.pi],
                context={**context, "proposal": proposal},
            )
    for name in ("reply_opened_at", "reply_closes_at", "reply_opens_at"):
        setattr(call, name, getattr(locked, name))
    return len(proposals)


def _check_can_open(call: Call, now: datetime) -> None:
    state = reply_window(call, now)
    if state == ReplyWindow.NOT_OFFERED:
        raise ValidationError(
            _("The call %(call)s has no right of reply; turn it on in the call's settings first.")
            % {"call": call.code},
            code="no_right_of_reply",
        )
    if state == ReplyWindow.OPEN:
        assert call.reply_closes_at is not None  # opening the window sets its end
        raise ValidationError(
            _("The right of reply is already open, until %(closes)s.")
            % {"closes": call_local(call.reply_closes_at, call)},
            code="already_open",
        )
    if state == ReplyWindow.CLOSED or call.reply_opened_at is not None:
        raise ValidationError(
            _("The right of reply of this call has already taken place."), code="already_open"
        )
    if call.decisions_published_at is not None:
        raise ValidationError(
            _("The decisions are published; the right of reply can no longer open."),
            code="decided",
        )
    if now < call.closes_at:
        raise ValidationError(
            _("The call is still open: the right of reply opens after its deadline, %(closes)s.")
            % {"closes": call_local(call.closes_at, call)},
            code="call_open",
        )
    if call.reply_closes_at is not None and call.reply_closes_at <= now:
        raise ValidationError(
            _("The planned closing date, %(closes)s, has passed. Move it later first.")
            % {"closes": call_local(call.reply_closes_at, call)},
            code="closes_in_past",
        )
    progress = review_progress(call=call)
    if not progress.complete:
        missing = []
        if progress.pending:
            missing.append(
                ngettext(
                    "%(count)d assigned review is not submitted yet.",
                    "%(count)d assigned reviews are not submitted yet.",
                    progress.pending,
                )
                % {"count": progress.pending}
            )
        if progress.without_review:
            missing.append(
                ngettext(
                    "%(count)d proposal has no submitted scientific review.",
                    "%(count)d proposals have no submitted scientific review.",
                    progress.without_review,
                )
                % {"count": progress.without_review}
            )
        raise ValidationError(
            _("The reviews are not complete: %(missing)s") % {"missing": " ".join(missing)},
            code="reviews_incomplete",
        )


def normalised_reply(text: str) -> str:
    """The reply as it is stored and counted: line breaks as one character, no outer space.

    Browsers send a line break in a text area as two characters (CR LF); counting it as one
    matches what the writer sees.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def reply_submit(*, proposal: Proposal, by: User, text: str, now: datetime | None = None) -> Reply:
    """The PI's one answer to the reviews of ``proposal``, within the call's length limit,
    while the right of reply is open.

    Refusals: PermissionDenied unless ``by`` is the PI; ValidationError (code in brackets)
    when the window is not open [``not_open``] or closed [``closed``], the proposal is not in
    competition [``not_in_competition``], a reply exists already [``already_replied``], the
    text is empty [``empty``] or longer than ``call.reply_length_limit`` characters
    [``too_long``, with the count].

    Side effects: one Reply row. No email.
    """
    now = now or timezone.now()
    text = normalised_reply(text)
    with transaction.atomic():
        locked = (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("call")
            .get(pk=proposal.pk)
        )
        if not is_pi(by, locked):
            raise PermissionDenied(_("Only the principal investigator can reply to the reviews."))
        call = locked.call
        state = reply_window(call, now)
        if state == ReplyWindow.CLOSED:
            assert call.reply_closes_at is not None  # CLOSED: that moment has passed
            raise ValidationError(
                _("The right of reply closed on %(closes)s; replies are no longer accepted.")
                % {"closes": call_local(call.reply_closes_at, call)},
                code="closed",
            )
        if state != ReplyWindow.OPEN:
            raise ValidationError(_("The right of reply is not open."), code="not_open")
        if locked.status not in IN_COMPETITION:
            raise ValidationError(
                _("This proposal is %(status)s; it takes no reply.")
                % {"status": locked.get_status_display().lower()},
                code="not_in_competition",
            )
        existing = Reply.objects.filter(proposal=locked).first()
        if existing is not None:
            raise ValidationError(
                _("You replied on %(when)s; a reply is sent once and cannot be changed.")
                % {"when": call_local(existing.submitted_at, call)},
                code="already_replied",
            )
        if not text:
            raise ValidationError(_("Write your reply before sending it."), code="empty")
        limit = call.reply_length_limit
        if len(text) > limit:
            raise ValidationError(
                _(
                    "Your reply has %(count)s characters; the limit is %(limit)s. "
                    "Shorten it by %(over)s."
                )
                % {"count": len(text), "limit": limit, "over": len(text) - limit},
                code="too_long",
            )
        try:
            with transaction.atomic():
                return Reply.objects.create(
                    proposal=locked, text=text, submitted_by=by, submitted_at=now
                )
        except IntegrityError as error:  # pragma: no cover - the proposal lock prevents it
            raise ValidationError(
                _("A reply was sent already; a reply is sent once."), code="already_replied"
            ) from error
