import zoneinfo

from django.utils import timezone

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
