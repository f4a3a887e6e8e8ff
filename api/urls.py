from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from api import (
    endpoints_allocations,  # noqa: F401  (registers its operations on ``api``)
    views,
)
from api.endpoints import api


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under ``/api/v1/``: a JSON 404, as the endpoints answer."""
    return JsonResponse({"detail": "Not found."}, status=404)


# The JSON API (``/api/v1/``) and the profile's token pages (``/profile/tokens/``).
api_urlpatterns = [path("", api.urls), re_path(r"^(?P<rest>.*)$", not_found)]

token_urlpatterns = [
    path("", views.token_create, name="api_token_create"),
    path("<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
