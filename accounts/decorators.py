"""View guards shared by the apps."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.rules import has_mfa, is_call_manager


def manager_required(view):
    """Signed in, a call manager (else 403), and with two-factor authentication on.

    PRODUCT §1 requires call managers to use MFA: one without it is sent to set it up.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_call_manager(request.user):
            raise PermissionDenied(_("Only call managers can open this page."))
        if not has_mfa(request.user):
            messages.warning(
                request,
                _("Call managers must turn on two-factor authentication before managing calls."),
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
