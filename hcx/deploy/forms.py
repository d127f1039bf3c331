"""The deploy page's two forms: start a deployment, and add an OVA to the OVA folder."""

from django import forms
from django.template.defaultfilters import filesizeformat

from . import library
from .placement import Inventory, Placement, check_placement, management_port_group
from .uploads import FIELD


class DeployForm(forms.Form):
    """Which OVA, and where in the plan's vCenter; the appliance's own settings come from the plan.

    The choices are the OVA folder's files and the plan's vCenter inventory as stored, so a value
    that is not offered is refused here with the choices there are."""

    ova = forms.ChoiceField(label="Connector OVA", help_text="An .ova file in the OVA folder")
    cluster = forms.ChoiceField(label="Datacenter / cluster", required=False)
    datastore = forms.ChoiceField(label="Datastore", required=False)
    network = forms.ChoiceField(label="Management port group", required=False)
    folder = forms.CharField(
        label="VM folder", required=False, max_length=300, help_text="Empty: the datacenter's VM folder"
    )
    resource_pool = forms.CharField(
        label="Resource pool", required=False, max_length=300, help_text="Empty: the cluster's root pool"
    )
    ssh_enabled = forms.BooleanField(label="Enable SSH on the appliance", required=False)

    def __init__(self, *args, plan, inventory: Inventory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.inventory = inventory or Inventory.of(plan)
        ovas = library.list_ovas()
        self.fields["ova"].choices = [("", "— choose —")] + [
            (o.name, f"{o.name} ({filesizeformat(o.size)})") for o in ovas
        ]
        clusters = self.inventory.clusters
        self.clusters = {str(c.pk): c for c in clusters}
        # Left empty, vCenter's only cluster (datastore) is taken; with several it must be chosen.
        self.fields["cluster"].choices = [
            ("", "— choose —" if len(clusters) > 1 else "— the vCenter's only cluster —")
        ] + [(str(c.pk), f"{c.datacenter} / {c.name}" if c.datacenter else c.name) for c in clusters]
        self.fields["datastore"].choices = [("", "— the cluster's only datastore —")] + [
            (d.name, f"{d.name} ({filesizeformat(d.free_mib * 2**20)} free)")
            for d in self.inventory.datastores
        ]
        management = management_port_group(plan)
        self.management_port_group = management
        networks = list(self.inventory.networks)
        if management and management not in networks:
            networks.insert(0, management)  # the plan's choice, even before the vCenter is discovered
        self.fields["network"].choices = [
            (n, n + (" (the plan's management network)" if n == management else "")) for n in networks
        ]
        self.fields["network"].initial = management
        if len(ovas) == 1:
            self.fields["ova"].initial = ovas[0].name

    def placement(self) -> Placement:
        data = self.cleaned_data
        cluster = self.clusters.get(data.get("cluster") or "")
        return Placement(
            datacenter=cluster.datacenter if cluster else "",
            cluster=cluster.name if cluster else "",
            datastore=data.get("datastore") or "",
            network=data.get("network") or "",
            folder=(data.get("folder") or "").strip(),
            resource_pool=(data.get("resource_pool") or "").strip(),
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for field, message in check_placement(self.plan, self.placement(), self.inventory).items():
                self.add_error("cluster" if field == "datacenter" else field, message)
        return cleaned


class OvaUploadForm(forms.Form):
    """The file was already streamed into the folder by OvaUploadHandler; this says what became of it."""

    # Not required: a file the handler refused for its size is absent, and deserves its own message.
    ova_file = forms.FileField(
        label="Upload an OVA", required=False, help_text="The HCX Connector .ova from the HCX Cloud Manager"
    )

    def __init__(self, *args, handler=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.handler = handler
        self.stored: library.StoredOva | None = None

    def clean_ova_file(self):
        if self.handler is not None and self.handler.too_large:
            raise forms.ValidationError(
                f"The file is larger than the {library.max_upload_bytes() // 2**20:,} MB an OVA upload may be "
                "(HCX_OVA_MAX_MB); nothing was kept."
            )
        uploaded = self.cleaned_data.get(FIELD)
        if not uploaded:
            raise forms.ValidationError("Choose the .ova file to upload.")
        path = getattr(uploaded, "path", None)
        if path is None:  # not received through OvaUploadHandler: nothing in the folder to check
            raise forms.ValidationError("The upload did not arrive; try again.")
        try:
            self.stored = library.store_upload(path, uploaded.name)
        except library.OvaRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return uploaded
