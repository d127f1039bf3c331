"""vCenter connections: list, details with recent discoveries, add/edit, and "Discover now"."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import ListView

from core.access import PermissionMixin
from core.generic_views import ObjectDetailView, ObjectEditView
from core.models import Job

from ..discovery.actions import KIND, do_save_vcenter, do_start_discovery
from ..forms.connections import VCenterForm
from ..models import VCenter, VirtualMachine


def with_vm_counts(queryset):
    live = (
        VirtualMachine.objects.filter(vcenter=OuterRef("pk"), removed__isnull=True)
        .order_by()
        .values("vcenter")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(vm_count=Coalesce(Subquery(live, output_field=IntegerField()), 0))


class VCenterListView(PermissionMixin, ListView):
    model = VCenter
    paginate_by = 50
    template_name = "inventory/vcenter_list.html"

    def get_queryset(self):
        return with_vm_counts(VCenter.objects.order_by("name"))


class VCenterView(ObjectDetailView):
    model = VCenter
    template_name = "inventory/vcenter.html"

    def get_queryset(self):
        return with_vm_counts(VCenter.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = Job.objects.filter(
            kind=KIND, object_type=ContentType.objects.get_for_model(VCenter), object_id=self.object.pk
        ).select_related("user")[:10]
        return context


class VCenterEditView(ObjectEditView):
    model = VCenter
    form_class = VCenterForm
    template_name = "inventory/vcenter_edit.html"
    invalid_status = 200

    def save(self, form):
        vcenter = do_save_vcenter(
            form.save(commit=False), acting_user=self.request.user, changed=form.changed_fields
        )
        messages.success(self.request, f"vCenter {vcenter.name} saved.")
        return redirect(vcenter)


class VCenterDiscoverView(PermissionMixin, View):
    model = VCenter
    permission_action = "discover_vcenter"
    http_method_names = ["post"]

    def post(self, request, pk):
        vcenter = get_object_or_404(VCenter, pk=pk)
        if not vcenter.can_discover:
            messages.error(request, f"{vcenter.name} has no URL or user name: edit the connection first.")
            return redirect(vcenter)
        job = do_start_discovery(vcenter, acting_user=request.user)
        return redirect(job)
