from django.apps import AppConfig


def _second_factor_on_activation(sender, request, user, authenticator, **kwargs) -> None:
    """allauth's ``authenticator_added``: whoever just activated an authenticator proved it
    with a code, so the session has passed the second factor (PRODUCT §1.1), as a sign-in with
    it would have recorded."""
    from allauth.account.internal.flows.login import record_authentication

    if request is not None:
        record_authentication(request, user, "mfa", type=authenticator.type, id=authenticator.pk)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and profiles"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        authenticator_added.connect(
            _second_factor_on_activation, dispatch_uid="accounts.second_factor_on_activation"
        )
