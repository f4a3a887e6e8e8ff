"""The right of reply (PRODUCT §5.4): the manager opens the window and every PI is told; the
PI reads the comments to the applicant and answers once, within the limit, before it closes."""

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.formatting import format_instant
from notifications.models import OutboxMessage
from proposals.calls.models import Call
from proposals.review.models import Reply, Review
from proposals.review.services.reply import reply_submit, reply_window_open
from proposals.submission.services.lifecycle import proposal_withdraw
from tests.conftest import make_user
from tests.factories import make_call
from tests.proposal_factories import BERLIN, add_call_role, add_member
from tests.proposals.helpers import assert_guarded
from tests.proposals.test_ranking import (
    conflict,
    in_review,
    page_text,
    pending,
    scientific,
    submitted_proposal,
    technical,
)

pytestmark = pytest.mark.django_db

CLOSES = datetime(2099, 3, 1, 17, 0, tzinfo=BERLIN)


@pytest.fixture
def call(db):
    return make_call(right_of_reply=True, reply_length_limit=40)


@pytest.fixture
def world(call, pi, coi, reviewer, committee):
    """Two proposals in review, each with a submitted review; a third one withdrawn."""
    mine = submitted_proposal(call, pi, "MINE")
    add_member(mine, coi)
    other_pi = make_user("other@uni.example", full_name="Olga Other")
    other = submitted_proposal(call, other_pi, "OTHER")
    gone = submitted_proposal(call, make_user("gone@uni.example"), "GONE")
    proposal_withdraw(proposal=gone, by=gone.pi)
    in_review(call)
    add_call_role(call, committee)
    scientific(mine, reviewer, 4, 4, comment="RITA-TO-APPLICANT", confidential="RITA-CONFIDENTIAL")
    zora = make_user("zora@review.example", full_name="Zora Second")
    scientific(mine, zora, 2, 2, comment="ZORA-TO-APPLICANT", confidential="ZORA-CONFIDENTIAL")
    technical(mine, make_user("tess@centre.example", full_name="Tess Technical"), "feasible")
    scientific(other, zora, 3, 3, comment="TO-OLGA")
    return {"mine": mine, "other": other, "gone": gone, "zora": zora}


def open_url(call: Call) -> str:
    return reverse("reply_window_open", args=[call.pk])


def reply_url(proposal) -> str:
    return reverse("proposal_reply", args=[proposal.pk])


# --- Opening the window ---------------------------------------------------------------------


def test_manager_opens_the_window_and_every_pi_in_competition_is_told(
    client, call, world, manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(open_url(call))

    assert response.status_code == 302
    assert response["Location"] == reverse("call_ranking", args=[call.pk])
    call.refresh_from_db()
    assert before <= call.reply_opened_at <= timezone.now()
    # No closing date was planned: fourteen days from now, and the planned opening is now.
    fortnight = call.reply_closes_at - call.reply_opened_at
    assert timedelta(days=14, minutes=-1) < fortnight <= timedelta(days=14)
    assert (call.reply_closes_at.second, call.reply_closes_at.microsecond) == (0, 0)
    assert call.reply_opens_at == call.reply_opened_at
    until = f"are ready: you may reply until {format_instant(call.reply_closes_at, call.tz)}"
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("other@uni.example", f"[Allot] Reviews of JUP27-1-0002 {until}"),
        ("pi@uni.example", f"[Allot] Reviews of JUP27-1-0001 {until}"),
    ]
    assert sorted(
        OutboxMessage.objects.filter(kind="reply-open").values_list("event", "recipient")
    ) == sorted(
        [
            (f"reply-open:{world['mine'].pk}", "pi@uni.example"),
            (f"reply-open:{world['other'].pk}", "other@uni.example"),
        ]
    )
    mail = next(m for m in mailoutbox if m.to == ["pi@uni.example"])
    assert "Hello Paula Investigator," in mail.body
    assert "Length limit: 40 characters" in mail.body
    assert f"{settings.SITE_URL}{reply_url(world['mine'])}" in mail.body
    html = mail.alternatives[0][0]
    for text in [mail.body, html]:
        for secret in ["Rita", "Zora", "Tess", "CONFIDENTIAL", "TO-APPLICANT", "4.00"]:
            assert secret not in text, secret
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        f"The right of reply is open until {format_instant(call.reply_closes_at, BERLIN)} "
        "(Europe/Berlin). 2 principal investigators are told by email."
    ]


def test_a_planned_closing_date_is_kept(call, world, manager):
    Call.objects.filter(pk=call.pk).update(
        reply_opens_at=CLOSES - timedelta(days=20), reply_closes_at=CLOSES
    )
    call.refresh_from_db()

    assert reply_window_open(call=call, by=manager) == 2

    call.refresh_from_db()
    assert (call.reply_opens_at, call.reply_closes_at) == (CLOSES - timedelta(days=20), CLOSES)
    assert OutboxMessage.objects.get(kind="reply-open", recipient="pi@uni.example").subject == (
        "[Allot] Reviews of JUP27-1-0001 are ready: you may reply until 1 Mar 2099, 17:00 CET"
    )


def refused(call, manager) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        reply_window_open(call=call, by=manager)
    return caught.value


def test_refused_without_a_right_of_reply(call, world, manager):
    Call.objects.filter(pk=call.pk).update(right_of_reply=False)
    call.refresh_from_db()
    assert refused(call, manager).messages == [
        "The call JUPITER 2027-1 has no right of reply; turn it on in the call's settings first."
    ]


def test_refused_while_reviews_are_missing(call, world, manager):
    pending(world["other"], make_user("late@review.example"))
    Review.objects.filter(proposal=world["other"], state="submitted").delete()

    assert refused(call, manager).messages == [
        "The reviews are not complete: 1 assigned review is not submitted yet. "
        "1 proposal has no submitted scientific review."
    ]
    call.refresh_from_db()
    assert call.reply_opened_at is None
    assert OutboxMessage.objects.filter(kind="reply-open").count() == 0


def test_refused_twice(call, world, manager):
    reply_window_open(call=call, by=manager)
    call.refresh_from_db()
    error = refused(call, manager)
    assert error.code == "already_open"
    assert OutboxMessage.objects.filter(kind="reply-open").count() == 2


def test_refused_after_publication(call, world, manager):
    Call.objects.filter(pk=call.pk).update(decisions_published_at=timezone.now())
    call.refresh_from_db()
    assert refused(call, manager).code == "decided"


def test_refused_when_the_planned_closing_date_has_passed(call, world, manager):
    now = timezone.now()
    Call.objects.filter(pk=call.pk).update(
        reply_opens_at=now - timedelta(days=3), reply_closes_at=now - timedelta(days=1)
    )
    call.refresh_from_db()
    assert refused(call, manager).code == "closes_in_past"


def test_a_refusal_is_shown_on_the_ranking(client, call, world, manager):
    pending(world["other"], make_user("late@review.example"))
    client.force_login(manager)

    response = client.post(open_url(call), follow=True)

    assert "The reviews are not complete: 1 assigned review is not submitted yet." in page_text(
        response
    )


def test_only_managers_open_it(call, world, committee):
    with pytest.raises(PermissionDenied):
        reply_window_open(call=call, by=committee)


def test_the_view_is_for_managers_with_mfa(client, call, pi):
    assert_guarded(client, pi, open_url(call), method="post")


def test_get_is_405(client, call, manager):
    client.force_login(manager)
    assert client.get(open_url(call)).status_code == 405


# --- Replying ---------------------------------------------------------------------------------


@pytest.fixture
def opened(call, world, manager):
    reply_window_open(call=call, by=manager)
    call.refresh_from_db()
    return world


def test_pi_reads_the_comments_anonymised_and_the_form(client, opened, pi):
    client.force_login(pi)
    response = client.get(reply_url(opened["mine"]))

    assert response.status_code == 200
    assert response.context["can_reply"] is True
    text = page_text(response)
    assert "Reviewer 1 RITA-TO-APPLICANT Reviewer 2 ZORA-TO-APPLICANT" in text
    assert "At most 40 characters." in text
    html = response.content.decode()
    for secret in ["Rita Reviewer", "Zora", "Tess", "CONFIDENTIAL", "TO-OLGA"]:
        assert secret not in html, secret
    for score in ("4.00", "2.00"):  # as numbers in the text (a timestamp may hold the digits)
        assert not re.search(rf"(?<![\d.]){re.escape(score)}(?!\d)", text), score
    assert '<label for="id_text">Your answer to the reviews</label>' in html


def test_pi_replies_once(client, opened, pi):
    client.force_login(pi)
    response = client.post(reply_url(opened["mine"]), {"text": "  Thank you.\r\nWe agree.  "})

    assert response.status_code == 302
    assert response["Location"] == reply_url(opened["mine"])
    reply = Reply.objects.get()
    assert (reply.proposal, reply.text, reply.submitted_by) == (
        opened["mine"],
        "Thank you.\nWe agree.",
        pi,
    )
    page = client.get(reply_url(opened["mine"]))
    assert page.context["can_reply"] is False
    assert "Thank you. We agree." in page_text(page)
    assert 'name="text"' not in page.content.decode()

    second = client.post(reply_url(opened["mine"]), {"text": "Another try."})

    assert second.status_code == 200
    assert "a reply is sent once and cannot be changed" in page_text(second)
    assert Reply.objects.get().text == "Thank you.\nWe agree."


def test_an_overlong_reply_is_refused_with_the_count_and_kept(client, opened, pi):
    client.force_login(pi)
    text = "x" * 41
    response = client.post(reply_url(opened["mine"]), {"text": text})

    assert response.status_code == 200
    assert Reply.objects.count() == 0
    page = page_text(response)
    assert "Your reply has 41 characters; the limit is 40. Shorten it by 1." in page
    assert f">{text}</textarea>" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_line_breaks_count_as_one_character(opened, pi):
    # As the browser sends it: 18 × "a" CR LF + "abcd" = 58 characters; as written: 40.
    reply = reply_submit(proposal=opened["mine"], by=pi, text="a\r\n" * 18 + "abcd")
    assert reply.text == "a\n" * 18 + "abcd"
    assert len(reply.text) == 40


def test_an_empty_reply_is_refused(client, opened, pi):
    client.force_login(pi)
    response = client.post(reply_url(opened["mine"]), {"text": "   \r\n "})
    assert "Write your reply before sending it." in page_text(response)
    assert Reply.objects.count() == 0


def test_after_the_window_closes_the_page_is_read_only(client, opened, call, pi):
    now = timezone.now()
    Call.objects.filter(pk=call.pk).update(
        reply_opens_at=now - timedelta(days=14),
        reply_opened_at=now - timedelta(days=14),
        reply_closes_at=now - timedelta(seconds=1),
    )
    client.force_login(pi)

    page = client.get(reply_url(opened["mine"]))
    assert page.status_code == 200
    assert page.context["can_reply"] is False
    assert "The right of reply closed on" in page_text(page)
    assert "RITA-TO-APPLICANT" in page_text(page)

    response = client.post(reply_url(opened["mine"]), {"text": "Late."})
    assert "replies are no longer accepted" in page_text(response)
    assert Reply.objects.count() == 0


def test_a_co_investigator_reads_but_cannot_reply(client, opened, coi):
    client.force_login(coi)
    page = client.get(reply_url(opened["mine"]))

    assert page.status_code == 200
    assert page.context["can_reply"] is False
    assert "Only the principal investigator, Paula Investigator, can send the reply." in (
        page_text(page)
    )
    assert client.post(reply_url(opened["mine"]), {"text": "Mine."}).status_code == 403
    assert Reply.objects.count() == 0


def test_before_the_window_opens_the_team_gets_403(client, world, pi):
    client.force_login(pi)
    response = client.get(reply_url(world["mine"]))

    assert response.status_code == 403
    assert (
        "Reviews are shared when the right of reply opens or the decisions are published."
        in page_text(response)
    )
    assert "TO-APPLICANT" not in response.content.decode()
    assert client.post(reply_url(world["mine"]), {"text": "Early."}).status_code == 403
    assert Reply.objects.count() == 0


def test_the_service_refuses_before_the_window_opens(world, pi):
    with pytest.raises(ValidationError) as caught:
        reply_submit(proposal=world["mine"], by=pi, text="Early.")
    assert caught.value.code == "not_open"


@pytest.mark.parametrize("role", ["committee", "manager", "reviewer"])
def test_people_who_are_not_on_the_team_get_403(client, opened, committee, manager, reviewer, role):
    client.force_login({"committee": committee, "manager": manager, "reviewer": reviewer}[role])
    assert client.get(reply_url(opened["mine"])).status_code == 403


def test_people_who_may_not_see_the_proposal_get_404(client, opened, outsider, committee):
    client.force_login(outsider)
    assert client.get(reply_url(opened["mine"])).status_code == 404
    conflict(opened["mine"], committee)
    client.force_login(committee)
    assert client.get(reply_url(opened["mine"])).status_code == 404


def test_the_other_pi_replies_to_their_own_proposal_only(client, opened):
    client.force_login(opened["other"].pi)
    assert client.post(reply_url(opened["mine"]), {"text": "Hi"}).status_code == 404
    page = client.get(reply_url(opened["other"]))
    assert "TO-OLGA" in page_text(page)
    assert "RITA" not in page.content.decode()


def test_a_withdrawn_proposal_takes_no_reply(opened, world):
    gone = world["gone"]
    with pytest.raises(ValidationError) as caught:
        reply_submit(proposal=gone, by=gone.pi, text="Still here.")
    assert caught.value.code == "not_in_competition"


def test_the_committee_reads_the_reply_beside_the_reviews(client, opened, pi, committee):
    reply_submit(proposal=opened["mine"], by=pi, text="We will cut the request.")
    client.force_login(committee)
    text = page_text(client.get(reverse("proposal_reviews", args=[opened["mine"].pk])))
    assert "The applicant's reply" in text
    assert "We will cut the request." in text


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(reply_url(world["mine"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_put_is_405(client, opened, pi):
    client.force_login(pi)
    assert client.put(reply_url(opened["mine"])).status_code == 405
