from django.apps import AppConfig


def _claim_call_roles(sender, request, email_address, **kwargs) -> None:
    """allauth's ``email_confirmed``: roles waiting for this address go to its owner."""
    from proposals.calls.services import call_roles_claim

    call_roles_claim(user=email_address.user, email=email_address.email)


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Calls, proposals and reviews"

    def ready(self) -> None:
        # The one signal receiver of the project: allauth tells us nothing else when someone
        # proves they own an address to which a manager gave a role.
        from allauth.account.signals import email_confirmed

        email_confirmed.connect(_claim_call_roles, dispatch_uid="proposals.claim_call_roles")

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
        from proposals.review.services.conflicts import (
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
