import zoneinfo

from allauth.account.authentication import get_authentication_records
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from accounts.text import has_control_character

TZ_COOKIE = "tz"
# The zones a reader may name. The cookie is the browser's to write: anything else (a folder
# of the zone database such as "Europe", 300 characters, a path) is ignored, never opened.
KNOWN_ZONES = frozenset(zoneinfo.available_timezones())


def reader_time_zone(request) -> zoneinfo.ZoneInfo | None:
    """The reader's zone: their profile's, else the browser's (cookie set by static/js/tz.js)."""
    name = ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        name = user.time_zone
    name = name or request.COOKIES.get(TZ_COOKIE, "")
    if name not in KNOWN_ZONES:
        return None
    return zoneinfo.ZoneInfo(name)


class TimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = reader_time_zone(request)
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


# Features no page of ours uses, refused for every page and any frame in it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "browsing-topics",
    )
)


class PrivacyHeadersMiddleware:
    """``Permissions-Policy`` on every response; ``Cache-Control: private, no-store`` on every
    response to someone signed in, so that no shared cache and no browser history keeps a
    page with reviews, scores or allocations after they sign out (PRODUCT §1.1)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


def session_passed_second_factor(request) -> bool:
    """Whether allauth recorded a second factor (an authenticator code, at sign-in or on
    confirming since) among the session's authentication methods for its user."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class SecondFactorMiddleware:
    """Marks ``request.user.second_factor_passed`` from the session, which
    ``accounts.rules.is_call_manager`` requires (PRODUCT §1.1): a manager's session without its
    second factor holds no manager power, reading included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            user.second_factor_passed = session_passed_second_factor(request)
        return self.get_response(request)


class ControlCharacterPathMiddleware:
    """An address whose path holds a control character (``/invitations/a%00b/``) is no page
    of ours: 400 before any view looks it up. PostgreSQL cannot even compare text with a NUL,
    and a view with a text parameter would answer 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_control_character(request.path):
            message = "This address holds a control character; no page has such an address."
            if request.path.startswith("/api/"):  # the API answers JSON, even here
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in person's profile language wins over the browser's (PRODUCT §10: German and
    Korean throughout); after LocaleMiddleware and AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if user is not None and user.is_authenticated and language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
