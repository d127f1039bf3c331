"""The inventory's page of one VM (URL `inventory:virtualmachine`, /inventory/vms/<pk>/). It shows
where the VM is in the programme too, so it lives here, in the highest app it shows; avsportal/urls.py
routes it under the inventory's URLs."""

from inventory import querysets
from inventory.choices import PowerState, ToolsStatus
from inventory.models import VirtualMachine
from inventory.views.browse import ObjectView
from migrations_app.vm_status import RELATED, vm_status


class VirtualMachineView(ObjectView):
    """One VM: what vCenter says of it, and where it is in the programme (its group, wave, readiness,
    migrations and where it runs now: vm_status.py)."""

    model = VirtualMachine

    def get_queryset(self):
        return querysets.virtual_machine_details().select_related(*RELATED)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vm = self.object
        context["programme"] = vm_status(vm, self.request.user)
        context["networks"] = querysets.network_names(vm)
        context["power_color"] = PowerState.COLORS.get(vm.power_state, "secondary")
        context["tools_color"] = ToolsStatus.COLORS.get(vm.tools_status, "secondary")
        context["attributes"] = (
            sorted((vm.attributes or {}).items()) if isinstance(vm.attributes, dict) else []
        )
        return context
