from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from config import health
from marketplace.notifications import views as notification_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # The language switcher's form posts here; it also keeps a signed-in person's choice for their emails.
    path("i18n/setlang/", notification_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/", include("marketplace.accounts.urls")),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("licensing.api_urls")),
    path("api/v1/", include("marketplace.api_urls")),
    path("api/", include("marketplace.mdc_urls")),
    path("", include("provenance.urls")),
    path("", include("licensing.urls")),
    path("", include("marketplace.urls")),
]

handler400 = "marketplace.views.errors.bad_request"
handler403 = "marketplace.views.errors.permission_denied"
handler404 = "marketplace.views.errors.page_not_found"
handler500 = "marketplace.views.errors.server_error"
