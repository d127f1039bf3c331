from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.choices import AuditAction

from ..choices import Severity
from ..filtersets import HcxNetworkProfilePlanFilterSet, HcxPlanFilterSet
from ..models import HcxNetworkProfilePlan, HcxPlan
from ..planning.actions import do_delete_plan, do_record_plan_change
from ..planning.checks import check_plan
from .serializers import HcxNetworkProfilePlanSerializer, HcxPlanSerializer, PlanChecksSerializer


class HcxPlanViewSet(viewsets.ModelViewSet):
    queryset = HcxPlan.objects.select_related("vcenter").prefetch_related("profiles", "networks")
    serializer_class = HcxPlanSerializer
    filterset_class = HcxPlanFilterSet
    ordering_fields = ["name", "last_updated"]

    def perform_create(self, serializer):
        with transaction.atomic():
            plan = serializer.save()
            do_record_plan_change(plan, acting_user=self.request.user, action=AuditAction.HCX_PLAN_CREATE)

    def perform_update(self, serializer):
        with transaction.atomic():
            plan = serializer.save()
            do_record_plan_change(plan, acting_user=self.request.user, action=AuditAction.HCX_PLAN_CHANGE)

    def perform_destroy(self, instance):
        do_delete_plan(instance, acting_user=self.request.user)

    @extend_schema(responses=PlanChecksSerializer)
    @action(detail=True)
    def checks(self, request, pk=None):
        """The plan's findings: rule, severity, what it concerns, what is wrong and how to fix it."""
        plan = self.get_object()
        report = check_plan(plan, list(plan.profiles.all()), list(plan.networks.all()))
        return Response(
            {
                "plan": plan.pk,
                "revision": plan.revision,
                "ready": report.ready,
                "errors": report.count(Severity.ERROR),
                "warnings": report.count(Severity.WARNING),
                "findings": [f.as_dict() for f in report.findings],
            }
        )


class HcxNetworkProfilePlanViewSet(viewsets.ModelViewSet):
    queryset = HcxNetworkProfilePlan.objects.select_related("plan")
    serializer_class = HcxNetworkProfilePlanSerializer
    filterset_class = HcxNetworkProfilePlanFilterSet
    ordering_fields = ["plan", "kind"]

    def perform_create(self, serializer):
        with transaction.atomic():
            profile = serializer.save()
            do_record_plan_change(
                profile.plan,
                acting_user=self.request.user,
                action=AuditAction.HCX_PLAN_CHANGE,
                profile=profile.kind,
            )

    def perform_update(self, serializer):
        with transaction.atomic():
            profile = serializer.save()
            do_record_plan_change(
                profile.plan,
                acting_user=self.request.user,
                action=AuditAction.HCX_PLAN_CHANGE,
                profile=profile.kind,
            )

    def perform_destroy(self, instance):
        with transaction.atomic():
            plan, kind = instance.plan, instance.kind
            instance.delete()
            do_record_plan_change(
                plan, acting_user=self.request.user, action=AuditAction.HCX_PLAN_CHANGE, removed_profile=kind
            )
