from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.views import PortalLoginView, favicon
from inventory.urls import app_name as inventory
from inventory.urls import urlpatterns as inventory_pages
from migrations_app.home import home
from migrations_app.vm_page import VirtualMachineView

# A VM's page shows where it is in the programme too, so it lives in migrations_app (the highest app it
# shows; the apps import only the ones below them, tests/test_layers.py) and joins the inventory's pages here.
inventory_pages = [
    *inventory_pages,
    path("vms/<int:pk>/", VirtualMachineView.as_view(), name="virtualmachine"),
]

urlpatterns = [
    path("", home, name="home"),
    path("login/", PortalLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("core.urls")),
    path("inventory/", include((inventory_pages, inventory))),
    path("hcx/", include("hcx.urls")),
    path("plan/", include("migrations_app.urls")),
    path("api/", include("avsportal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico where a page names no icon (the API's JSON, files): the portal's own.
    path("favicon.ico", favicon, name="favicon"),
]
