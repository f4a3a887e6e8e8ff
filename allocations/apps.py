from typing import Any

from django.apps import AppConfig


def _cluster_logins_from_claims(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """At a sign-in through an identity provider, take the cluster login from its claim."""
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider

    from allocations.services.logins import cluster_logins_from_claims

    if not isinstance(sociallogin.account.get_provider(request), OpenIDConnectProvider):
        return
    data = sociallogin.account.extra_data or {}
    # allauth keeps the userinfo answer and the decoded ID token side by side.
    claims = {**data.get("id_token", {}), **data.get("userinfo", {})}
    cluster_logins_from_claims(user=user, claims=claims)


class AllocationsConfig(AppConfig):
    name = "allocations"
    verbose_name = "Resources and allocations"

    def ready(self) -> None:
        # PRODUCT §8: a PI with an overdue final report may not start a proposal; proposals
        # asks through its hook (proposals.calls.hooks), never through our tables.
        from allocations.rules import overdue_final_reports_message
        from proposals.calls.hooks import start_check_register

        start_check_register(overdue_final_reports_message)

        # PRODUCT §9: usage against award on the statistics page.
        from allocations.selectors.statistics import usage_statistics
        from proposals.decisions.hooks import usage_source_register

        usage_source_register(usage_statistics)

        # PRODUCT §9: the home page lists awards to accept and final reports due, which
        # proposals cannot read (proposals.home.hooks).
        from allocations.selectors.waiting import waiting_in_allocations
        from proposals.home.hooks import waiting_source_register

        waiting_source_register(waiting_in_allocations)
        # PRODUCT §8: continuations. Which allocations a PI may continue, and the earlier
        # allocation's use and final report on every page of a continuing proposal.
        from allocations.selectors.continuation import (
            continuable_allocations,
            continuation_page_context,
        )
        from proposals.calls.hooks import continuable_register
        from proposals.submission.hooks import page_context_register

        continuable_register(continuable_allocations)
        page_context_register(continuation_page_context)

        # PRODUCT §8: the cluster login named by the identity provider's claim
        # (CLUSTER_LOGIN_CLAIM), at every sign-in through OpenID Connect.
        from allauth.account.signals import user_logged_in

        user_logged_in.connect(
            _cluster_logins_from_claims, dispatch_uid="allocations.cluster_logins_from_claims"
        )
