from django.apps import AppConfig


def _claim_call_roles(sender, request, email_address, **kwargs) -> None:
    """allauth's ``email_confirmed``: roles waiting for this address go to its owner."""
    from proposals.calls.services import call_roles_claim

    call_roles_claim(user=email_address.user, email=email_address.email)


def _record_sign_in(sender, request, user, **kwargs) -> None:
    """allauth's ``user_logged_in``: a manager's or superuser's sign-in goes to the audit trail
    (PRODUCT §9), to the admin when it sends them there, with whether the second factor was
    passed."""
    from django.urls import reverse

    from accounts.middleware import session_passed_second_factor
    from proposals.calls.audit import sign_in_record

    response = kwargs.get("response")
    location = response.get("Location", "") if response is not None else ""
    where = "admin" if location.startswith(reverse("admin:index")) else "site"
    sign_in_record(user=user, second_factor=session_passed_second_factor(request), where=where)


def _record_manager_role(**kwargs) -> None:
    from proposals.calls.audit import manager_role_record

    manager_role_record(**kwargs)


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Calls, proposals and reviews"

    def ready(self) -> None:
        # allauth's signals, the only ones the project receives: allauth tells us nothing else
        # when someone proves they own an address to which a manager gave a role, or signs in.
        from allauth.account.signals import email_confirmed, user_logged_in

        email_confirmed.connect(_claim_call_roles, dispatch_uid="proposals.claim_call_roles")
        user_logged_in.connect(_record_sign_in, dispatch_uid="proposals.record_sign_in")

        # The admin's changes to who is a call manager go to the audit trail (accounts.hooks).
        from accounts.hooks import manager_role_recorder_register

        manager_role_recorder_register(_record_manager_role)

        # Review answers what submission asks but may not import (proposals.submission.hooks).
        from proposals.review.rules import reads_proposal
        from proposals.review.views.page_links import page_links
        from proposals.submission.hooks import page_context_register, proposal_reader_register

        proposal_reader_register(reads_proposal)
        page_context_register(page_links)

        # Conflicts of interest are detected whenever what detection reads changes (PRODUCT
        # §5.1): the call's people, a submission, a team (proposals.calls.hooks), a person's
        # affiliation or name (accounts.hooks).
        from accounts.hooks import identity_listener_register
        from proposals.calls.hooks import conflict_sources_register
        from proposals.review.services.conflict_detection import (
            conflicts_refresh_for,
            conflicts_refresh_for_person,
        )

        conflict_sources_register(conflicts_refresh_for)
        identity_listener_register(conflicts_refresh_for_person)

        # The outbox's retry of a failed invitation, whose secret link it erased, makes a new
        # one (notifications.hooks).
        from notifications.enums import EmailKind
        from notifications.hooks import secret_context_register
        from proposals.submission.services.team import team_invitation_renew

        secret_context_register(EmailKind.TEAM_INVITATION, team_invitation_renew)
