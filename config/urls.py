from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from api.urls import api_urlpatterns, token_urlpatterns
from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("language/", account_views.language_switch, name="language_switch"),
    # The admin signs in through allauth's login (rate limits, second factor): its own login
    # page is replaced before admin.site.urls can answer it.
    path("admin/login/", account_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    # allauth's, remembering where the manager was going (accounts.views.activate_totp).
    path("accounts/2fa/totp/activate/", account_views.activate_totp),
    path("accounts/", include("allauth.urls")),
    path("profile/tokens/", include(token_urlpatterns)),
    path("profile/", include("accounts.urls")),
    path("api/v1/", include(api_urlpatterns)),
    path("outbox/", include("notifications.urls")),
    path("", include("proposals.urls")),
    path("", include("allocations.urls")),
]
