"""All REST endpoints under /api/, one router, named `api:<basename>-list|detail`."""

from rest_framework.routers import DefaultRouter

from core.api.views import JobViewSet
from core.audit.api import AuditEntryViewSet
from core.notifications.api import register as register_notifications
from hcx.api.urls import register as register_hcx
from inventory.api.urls import register as register_inventory
from migrations_app.api import register as register_migrations

app_name = "api"

router = DefaultRouter()
router.register("jobs", JobViewSet)
router.register("audit", AuditEntryViewSet, basename="auditentry")
register_notifications(router)
register_inventory(router)
register_hcx(router)
register_migrations(router)

urlpatterns = router.urls
