from django.urls import path

from api import views
from api.endpoints import api

# The JSON API (``/api/v1/``) and the profile's token pages (``/profile/tokens/``).
api_urlpatterns = [path("", api.urls)]

token_urlpatterns = [
    path("", views.token_create, name="api_token_create"),
    path("<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
]
