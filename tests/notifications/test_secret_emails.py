"""PRODUCT §1.1: a secret link (an address confirmation, a password reset, a team invitation)
is read by its recipient only — not on the outbox pages, the manager pages, their exports or
the admin, whether the email is still queued, sent or failed. The recipient's email holds a
link that works.

One of each secret email is planted through the real pages, in each of the three states, then
a call manager and a superuser (both signed in with their second factor) open every page of
the URL conf and every admin page, and none of them holds any of the links.
"""

import re
import smtplib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import allauth
import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.adapters import ACCOUNT_NOTICES, account_email_carries_secret
from notifications.enums import SECRET_KINDS, EmailKind, MessageStatus, SecretLink
from notifications.hooks import secret_contexts
from notifications.models import OutboxMessage
from notifications.services import outbox_queue
from proposals.submission.enums import TeamStatus
from proposals.submission.models import TeamMember
from proposals.submission.services.team import team_invitation_renew
from proposals.submission.views.editing import EDITORS
from tests.accounts.conftest import sign_in
from tests.conftest import PASSWORD, make_manager, make_user
from tests.factories import make_call
from tests.proposal_factories import make_proposal
from tests.second_factor import sign_in_with_totp
from tests.url_walk import admin_urls, app_urls

pytestmark = pytest.mark.django_db

# The secret part of each kind's link, as the email gives it.
LINKS = {
    "account-email_confirmation_signup": re.compile(r"/accounts/confirm-email/([^/\s\"<]+)/"),
    "account-email_confirmation": re.compile(r"/accounts/confirm-email/([^/\s\"<]+)/"),
    "account-password_reset_key": re.compile(r"/accounts/password/reset/key/([^/\s\"<]+)/"),
    "team-invitation": re.compile(r"/invitations/([^/\s\"<]+)/"),
}
OUTCOMES = ("queued", "sent", "failed")
NEW_PASSWORD = "a-new-horse-battery-77"


def fragments(token: str) -> set[str]:
    """The token and each long part of it (a confirmation key is ``<id>:<time>:<signature>``,
    a reset ``<user>-<key>``): none of them may show anywhere."""
    return {token} | {part for part in re.split(r"[:\-]", token) if len(part) >= 10}


@dataclass
class Planted:
    kind: str
    outcome: str
    token: str
    link: str  # the path the recipient's email holds (sent ones only)
    recipient: str


class Planter:
    """Triggers each secret email through its page and notes the link it carried."""

    def __init__(self, capture, pi_client, proposal):
        self.capture = capture
        self.pi_client = pi_client
        self.proposal = proposal
        self.planted: list[Planted] = []
        self.refused_bodies: list[str] = []

    @contextmanager
    def _delivery(self, outcome: str):
        if outcome == "queued":
            # Without running the on-commit send task, the message stays queued.
            yield
            return
        if outcome == "sent":
            with self.capture(execute=True):
                yield
            return

        def refuse(email, *args, **kwargs):
            # A content filter's refusal that quotes the message, its link included.
            self.refused_bodies.append(email.body)
            raise smtplib.SMTPDataError(554, f"5.7.1 Blocked: {email.body}".encode())

        with (
            mock.patch.object(EmailMultiAlternatives, "send", autospec=True, side_effect=refuse),
            self.capture(execute=True),
        ):
            yield

    def plant(self, kind: str, outcome: str, recipient: str, trigger) -> None:
        before = set(OutboxMessage.objects.values_list("pk", flat=True))
        sent_before, refused_before = len(mail.outbox), len(self.refused_bodies)
        with self._delivery(outcome):
            trigger()
        message = OutboxMessage.objects.exclude(pk__in=before).get()
        assert (message.kind, message.recipient, message.secret) == (kind, recipient, True)
        assert message.status == {"queued": "queued", "sent": "sent", "failed": "failed"}[outcome]
        if outcome == "queued":
            body = message.body_text
        else:
            # Erased in the database once it left the queue: only the email held it.
            assert (message.body_text, message.body_html) == ("", "")
            bodies = mail.outbox[sent_before:] + self.refused_bodies[refused_before:]
            assert len(bodies) == 1
            body = bodies[0] if isinstance(bodies[0], str) else bodies[0].body
        match = LINKS[kind].search(body)
        assert match, body
        self.planted.append(Planted(kind, outcome, match[1], match[0], recipient))

    def signup(self, outcome: str) -> None:
        email = f"new.{outcome}@uni.example"
        self.plant(
            "account-email_confirmation_signup",
            outcome,
            email,
            lambda: Client().post(
                "/accounts/signup/",
                {"email": email, "password1": PASSWORD, "password2": PASSWORD},
            ),
        )

    def email_change(self, outcome: str) -> None:
        user = make_user(f"changer.{outcome}@uni.example")
        client = Client()
        sign_in(client, user.email, PASSWORD)
        new = f"changed.{outcome}@newuni.example"
        self.plant(
            "account-email_confirmation",
            outcome,
            new,
            lambda: client.post("/accounts/email/", {"action_add": "", "email": new}),
        )

    def password_reset(self, outcome: str) -> None:
        user = make_user(f"forgetful.{outcome}@uni.example")
        self.plant(
            "account-password_reset_key",
            outcome,
            user.email,
            lambda: Client().post("/accounts/password/reset/", {"email": user.email}),
        )

    def team_invitation(self, outcome: str) -> None:
        email = f"invitee.{outcome}@lab.example"
        self.plant(
            "team-invitation",
            outcome,
            email,
            lambda: self.pi_client.post(
                reverse("team_invite", args=[self.proposal.pk]), {"email": email}
            ),
        )


@pytest.fixture
def planted(pi, django_capture_on_commit_callbacks) -> Planter:
    proposal = make_proposal(make_call(), pi, title="Sparse experts", acronym="SPARSE")
    pi_client = Client()
    pi_client.force_login(pi)
    planter = Planter(django_capture_on_commit_callbacks, pi_client, proposal)
    for outcome in OUTCOMES:
        planter.signup(outcome)
        planter.email_change(outcome)
        planter.password_reset(outcome)
        planter.team_invitation(outcome)
    assert len({p.token for p in planter.planted}) == 12
    return planter


def looked_through(client: Client, urls: list[str], secrets: set[str]) -> dict[int, int]:
    """GET each URL; fail on any secret in a response; the count of each status code."""
    statuses: dict[int, int] = {}
    for url in urls:
        response = client.get(url)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        content = b"".join(response) if response.streaming else response.content
        seen = content.decode(errors="replace") + str(response.headers)
        leaked = sorted(secret for secret in secrets if secret in seen)
        assert not leaked, f"{url} ({response.status_code}) shows {leaked}"
    return statuses


def every_page(planter: Planter) -> list[str]:
    proposal = planter.proposal
    ids = {
        proposal.pk,
        proposal.call_id,
        *TeamMember.objects.values_list("pk", flat=True),
        *User.objects.values_list("pk", flat=True),
    }
    return app_urls(
        skip_prefixes=("admin/",),
        values={
            "pk": ids,
            "member_pk": TeamMember.objects.values_list("pk", flat=True),
            "message_id": OutboxMessage.objects.values_list("pk", flat=True),
            "section": EDITORS.keys(),
            **{name: [1] for name in ("number", "role_pk", "attachment_pk", "proposal_pk")},
            **{name: [1] for name in ("review_pk", "conflict_pk", "request_pk")},
        },
    )


def test_no_manager_page_shows_a_secret_link(planted):
    secrets = set().union(*(fragments(p.token) for p in planted.planted))
    manager = sign_in_with_totp(make_manager())
    urls = every_page(planted)

    statuses = looked_through(manager, urls, secrets)

    details = [
        reverse("outbox_detail", args=[pk])
        for pk in OutboxMessage.objects.values_list("pk", flat=True)
    ]
    assert set(details) <= set(urls)
    assert all(manager.get(url).status_code == 200 for url in details)
    assert statuses[200] >= len(details) + 10


def test_no_admin_or_manager_page_shows_a_superuser_a_secret_link(planted):
    secrets = set().union(*(fragments(p.token) for p in planted.planted))
    root = User.objects.create_superuser(email="root@centre.example", password=PASSWORD)
    EmailAddress.objects.create(user=root, email=root.email, verified=True, primary=True)
    superuser = sign_in_with_totp(root)
    admin_pages = admin_urls()
    outbox_changes = [
        reverse("admin:notifications_outboxmessage_change", args=[pk])
        for pk in OutboxMessage.objects.values_list("pk", flat=True)
    ]

    statuses = looked_through(superuser, admin_pages + every_page(planted), secrets)

    assert set(outbox_changes) <= set(admin_pages)
    assert all(superuser.get(url).status_code == 200 for url in outbox_changes)
    assert statuses[200] >= len(admin_pages)


def test_the_outbox_says_the_text_is_private(planted):
    manager = Client()
    manager.force_login(make_manager())
    message = OutboxMessage.objects.filter(secret=True, status=MessageStatus.QUEUED).first()

    page = manager.get(reverse("outbox_detail", args=[message.pk])).content.decode()

    assert "This email carries a private link" in page
    assert "Only its recipient can read it" in page


def test_each_recipient_gets_a_link_that_works(planted):
    sent = {p.kind: p for p in planted.planted if p.outcome == "sent"}

    # Sign-up: the new address is confirmed through its link.
    Client().post(sent["account-email_confirmation_signup"].link)
    assert EmailAddress.objects.get(email="new.sent@uni.example").verified

    # Email change: the new address becomes the sign-in address.
    Client().post(sent["account-email_confirmation"].link)
    assert User.objects.filter(email="changed.sent@newuni.example").exists()

    # Password reset: the link leads to the form that sets a new password.
    client = Client()
    form = client.get(sent["account-password_reset_key"].link)
    assert form.status_code == 302
    done = client.post(form["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(email="forgetful.sent@uni.example").check_password(NEW_PASSWORD)

    # Team invitation: the invitee opens it and can answer.
    invitation = sent["team-invitation"]
    client = Client()
    assert client.get(invitation.link).status_code == 200
    client.post(invitation.link, {"action": "decline"})
    assert TeamMember.objects.get(email=invitation.recipient).status == TeamStatus.DECLINED


def test_a_sent_secret_message_cannot_hold_its_body(planted):
    message = OutboxMessage.objects.filter(secret=True, status=MessageStatus.SENT).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(body_text="the link again")


def test_a_failed_secret_message_cannot_hold_its_body(planted):
    message = OutboxMessage.objects.filter(secret=True, status=MessageStatus.QUEUED).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        # straight to the table: the database's own constraint is what is tested
        OutboxMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)


# --- a manager's retry of a failed secret email -------------------------------------------


def retry(client: Client, message: OutboxMessage, capture):
    with capture(execute=True):
        return client.post(reverse("outbox_retry", args=[message.pk]))


def test_retrying_a_failed_invitation_sends_a_fresh_link(
    planted, manager, django_capture_on_commit_callbacks
):
    failed = next(
        p for p in planted.planted if p.kind == "team-invitation" and p.outcome == "failed"
    )
    message = OutboxMessage.objects.get(kind="team-invitation", recipient=failed.recipient)
    client = Client()
    client.force_login(manager)
    mail.outbox.clear()

    response = retry(client, message, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.body_text, message.attempts) == (MessageStatus.SENT, "", 1)
    assert [email.to for email in mail.outbox] == [[failed.recipient]]
    fresh = LINKS["team-invitation"].search(mail.outbox[0].body)
    assert fresh[1] != failed.token
    assert TeamMember.objects.get(email=failed.recipient).token == fresh[1]
    assert Client().get(failed.link).status_code == 404
    assert Client().get(fresh[0]).status_code == 200


ACCOUNT_LINKS = [
    "account-email_confirmation_signup",
    "account-email_confirmation",
    "account-password_reset_key",
]


@pytest.mark.parametrize("kind", ACCOUNT_LINKS)
def test_retrying_a_failed_account_link_is_refused_with_the_way_to_a_new_one(
    planted, manager, kind, django_capture_on_commit_callbacks
):
    message = OutboxMessage.objects.get(kind=kind, status=MessageStatus.FAILED)
    client = Client()
    client.force_login(manager)
    mail.outbox.clear()

    response = retry(client, message, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    [flash] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "This email carried a private link" in flash
    assert "“Forgot your password?” on the sign-in page" in flash
    message.refresh_from_db()
    assert (message.status, message.body_text) == (MessageStatus.FAILED, "")
    assert mail.outbox == []


def test_retrying_an_answered_invitation_is_refused(
    planted, manager, django_capture_on_commit_callbacks
):
    failed = next(
        p for p in planted.planted if p.kind == "team-invitation" and p.outcome == "failed"
    )
    TeamMember.objects.filter(email=failed.recipient).delete()
    message = OutboxMessage.objects.get(kind="team-invitation", recipient=failed.recipient)
    client = Client()
    client.force_login(manager)

    response = retry(client, message, django_capture_on_commit_callbacks)

    [flash] = [str(m) for m in get_messages(response.wsgi_request)]
    assert flash.startswith("This invitation was answered or taken back")
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


# --- the kinds declare their secret -------------------------------------------------------


def test_the_team_invitation_is_a_secret_kind():
    assert {EmailKind.TEAM_INVITATION} == SECRET_KINDS
    assert EmailKind.TEAM_INVITATION.carries_secret
    assert not EmailKind.DECISION_PUBLISHED.carries_secret


def test_the_invitation_registers_how_to_make_a_fresh_link():
    assert secret_contexts[EmailKind.TEAM_INVITATION] is team_invitation_renew


def test_a_secret_link_in_an_ordinary_kind_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not in SECRET_KINDS"):
        outbox_queue(
            kind=EmailKind.OUTBOX_EXAMPLE,
            event="example:secret",
            recipient="someone@uni.example",
            context={"link": SecretLink("https://allot.example/invitations/abc/")},
        )


ALLAUTH_EMAILS = sorted(
    (folder, path.name.removesuffix("_message.txt"))
    for folder in ("account", "mfa")
    for path in (Path(allauth.__file__).parent / "templates" / folder / "email").glob(
        "*_message.txt"
    )
    if path.name != "base_message.txt"
)


def test_every_allauth_email_but_its_notices_carries_a_secret():
    assert len(ALLAUTH_EMAILS) > 10, "allauth's email templates were not found"
    assert {name for _folder, name in ALLAUTH_EMAILS} >= ACCOUNT_NOTICES
    for folder, name in ALLAUTH_EMAILS:
        source = get_template(f"{folder}/email/{name}_message.txt").template.source
        is_notice = '{% extends "account/email/base_notification.txt" %}' in source
        # A notice only says what changed: no link, no code (its base holds neither).
        assert account_email_carries_secret(name) == (not is_notice), name
    notice_base = get_template("account/email/base_notification.txt").template.source
    assert not re.search(r"\{\{\s*\w*(url|code|key)\w*\s*\}\}", notice_base)
