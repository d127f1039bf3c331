"""What the AVS side of a site offers to migrate into, read from HCX's remote inventory and kept, so
that the wave form can offer it as choices (hcx-wire.md §4).

`read_avs_inventory(site)` asks the site's HCX Connector for the paired AVS site's containers
(clusters, resource pools, folders), datastores and networks (`remote: true`, items of the AVS
endpoint only) and stores them in the site's `AvsInventory`, replacing the last reading. A
planner or engineer asks for it with "Read AVS inventory from HCX" (`AvsInventoryReadView`), and the
set-up's pairing step reads it once the sites are paired; the launch itself always reads HCX afresh
(migrations_app/launch/site.py).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from core.access import user_can
from core.jobs import JobError
from core.roles import roles_holding, roles_text

from .client import HcxError
from .client.service import InventoryItem
from .models import AvsInventory, HcxPlan
from .setup.configure import paired_endpoint
from .setup.steps import Context

CONTAINER_KINDS = {
    "ClusterComputeResource": "clusters",
    "ResourcePool": "resource_pools",
    "Folder": "folders",
}


class AvsInventoryError(Exception):
    pass


def read_avs_inventory(site: HcxPlan, *, acting_user=None, ctx: Context | None = None) -> AvsInventory:
    """Read the AVS side's inventory through the site's HCX Connector and keep it. AvsInventoryError
    says why it could not be read; the last reading is then left as it was. `ctx`: a set-up step's
    context, whose client is used (and left open)."""
    own = ctx is None
    ctx = Context(site, None) if own else ctx
    try:
        hcx = ctx.hcx
        try:
            remote = paired_endpoint(ctx)["endpointId"]
            containers = hcx.remote_inventory("containers", remote)
            datastores = hcx.remote_inventory("datastores", remote)
            networks = hcx.networks(remote)
        finally:
            if own:
                hcx.close()
    except (JobError, HcxError) as exc:
        raise AvsInventoryError(f"The AVS inventory of {site} could not be read from HCX: {exc}") from None
    items = {kind: [] for kind in ("clusters", "resource_pools", "folders", "datastores", "networks")}
    for item in containers:
        if item.kind in CONTAINER_KINDS:
            items[CONTAINER_KINDS[item.kind]].append(_entry(item))
    items["datastores"] = [_entry(d) for d in datastores]
    items["networks"] = [
        {"id": n.get("entity_id") or n.get("id") or n.get("name"), "name": n.get("name")}
        for n in networks
        if isinstance(n, dict) and n.get("name")
    ]
    for kind in items:
        items[kind] = sorted({i["name"]: i for i in items[kind]}.values(), key=lambda i: i["name"].lower())
    inventory, _ = AvsInventory.objects.update_or_create(
        site=site,
        defaults={"endpoint_id": remote, "items": items, "read_at": timezone.now(), "read_by": acting_user},
    )
    return inventory


def _entry(item: InventoryItem) -> dict:
    return {"id": item.id, "name": item.name}


# Planners (who shape waves) and engineers (who run the site) may ask HCX for the AVS inventory. Waves
# are named by their permission: hcx imports nothing of migrations_app, the app above it.
READERS = ("migrations_app.change_wave", "hcx.change_hcxplan")


def can_read(user) -> bool:
    return user_can(user, HcxPlan, "view") and any(user.has_perm(permission) for permission in READERS)


class AvsInventoryReadView(LoginRequiredMixin, View):
    """POST: read the site's AVS inventory from HCX now, then go back to `next` (the page asked from)."""

    def post(self, request, pk):
        if not can_read(request.user):
            raise PermissionDenied(f"Reading the AVS inventory is for {roles_text(roles_holding(*READERS))}.")
        site = get_object_or_404(HcxPlan, pk=pk)
        try:
            inventory = read_avs_inventory(site, acting_user=request.user)
        except AvsInventoryError as exc:
            messages.error(request, str(exc))
        else:
            counts = ", ".join(f"{k.replace('_', ' ')} {len(inventory.items[k])}" for k in inventory.items)
            messages.success(request, f"Read the AVS inventory of {site} from HCX: {counts}.")
        back = request.POST.get("next") or ""
        if url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return redirect("hcx:hcxplan", pk=site.pk)
