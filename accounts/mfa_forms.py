"""allauth's second-factor forms with a code field a phone fills in well (issue 14, point 7):
the digits keyboard (``inputmode="numeric"``) and the code offered from the SMS or the
authenticator (``autocomplete="one-time-code"``). Authenticator and recovery codes are both
digits. Named in ``MFA_FORMS``."""

from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm

CODE_ATTRIBUTES = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "pattern": "[0-9 ]*",
    "spellcheck": "false",
}


class _NumericCode:
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(CODE_ATTRIBUTES)


class ActivateTOTPForm(_NumericCode, AllauthActivateTOTPForm):
    pass


class AuthenticateForm(_NumericCode, AllauthAuthenticateForm):
    pass


class ReauthenticateForm(_NumericCode, AllauthReauthenticateForm):
    pass
