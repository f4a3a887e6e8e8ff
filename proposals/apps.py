from django.apps import AppConfig


def _claim_call_roles(sender, request, email_address, **kwargs) -> None:
    """allauth's ``email_confirmed``: roles waiting for this address go to its owner."""
    from proposals.services.calls import call_roles_claim

    call_roles_claim(user=email_address.user, email=email_address.email)


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Calls, proposals and reviews"

    def ready(self) -> None:
        # The one signal receiver of the project: allauth tells us nothing else when someone
        # proves they own an address to which a manager gave a role.
        from allauth.account.signals import email_confirmed

        email_confirmed.connect(_claim_call_roles, dispatch_uid="proposals.claim_call_roles")
