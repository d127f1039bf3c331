"""The few Azure Resource Manager calls the portal makes for AVS (hcx-wire.md §7), served
under `/arm/` on the service port, plus a stub of the Entra ID client-credentials token endpoint.

Base URLs for a client: ARM = `<service>/arm`, authority = `<service>/arm` (token at
`/arm/{tenant}/oauth2/v2.0/token`). Every ARM route needs `Authorization: Bearer <token>` and an
`api-version` query parameter, as ARM does.
"""

import re
import secrets
from urllib.parse import parse_qs

from .server import ArmError, Response, Router

router = Router()
PC = "/arm/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.AVS/privateClouds/{pc}"
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
ADDON_TYPES = {"SRM", "VR", "HCX", "Arc"}
HCX_OFFERS = {"VMware MaaS Cloud Provider (Enterprise)", "VMware MaaS Cloud Provider"}


def token_request(sim, req):
    form = {k: v[0] for k, v in parse_qs(req.raw.decode(errors="replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return Response(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "Only grant_type=client_credentials is supported",
            },
        )
    if form.get("client_id") != sim.config.client_id or form.get("client_secret") != sim.config.client_secret:
        return Response(401, {"error": "invalid_client", "error_description": "Invalid client id or secret"})
    token, expires = sim.arm_tokens.issue()
    return {"token_type": "Bearer", "expires_in": expires, "ext_expires_in": expires, "access_token": token}


router.add("POST", "/arm/{tenant}/oauth2/v2.0/token")(token_request)
router.add("POST", "/arm/{tenant}/oauth2/token")(token_request)


def private_cloud(sim, req) -> dict:
    """Checks api-version and the resource path; returns the private cloud resource."""
    version = req.arg("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if not API_VERSION.match(version):
        raise ArmError(400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid.")
    c, p = sim.config, req.params
    if p["sub"].lower() != c.subscription.lower():
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{p['sub']}' could not be found.")
    if p["rg"].lower() != c.resource_group.lower():
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['rg']}' could not be found.")
    if p["pc"].lower() != c.private_cloud.lower():
        raise ArmError(
            404, "ResourceNotFound", f"The Resource 'Microsoft.AVS/privateClouds/{p['pc']}' was not found."
        )
    base = "https://10.0.0.{}/"
    return {
        "id": sim.private_cloud_id(),
        "name": c.private_cloud,
        "type": "Microsoft.AVS/privateClouds",
        "location": "westeurope",
        "sku": {"name": "av36p"},
        "properties": {
            "provisioningState": "Succeeded",
            "networkBlock": "10.0.0.0/22",
            "internet": "Disabled",
            "managementCluster": {"clusterSize": 3, "clusterId": 1, "hosts": ["esx01", "esx02", "esx03"]},
            "endpoints": {
                "nsxtManager": base.format(3),
                "vcsa": base.format(2),
                "hcxCloudManager": c.hcx_cloud_url,
                "nsxtManagerIp": "10.0.0.3",
                "vcenterIp": "10.0.0.2",
                "hcxCloudManagerIp": "10.0.0.9",
            },
        },
    }


@router.add("GET", PC, auth="bearer")
def get_private_cloud(sim, req):
    return private_cloud(sim, req)


@router.add("POST", PC + "/listAdminCredentials", auth="bearer")
def admin_credentials(sim, req):
    private_cloud(sim, req)
    return {
        "nsxtUsername": "cloudadmin",
        "nsxtPassword": sim.config.cloud_password,
        "vcenterUsername": sim.config.cloud_username,
        "vcenterPassword": sim.config.cloud_password,
    }


# --- add-ons ----------------------------------------------------------------------------------


@router.add("GET", PC + "/addons", auth="bearer")
def list_addons(sim, req):
    private_cloud(sim, req)
    return {"value": list(sim.state.addons.values())}


def addon_or_404(sim, req) -> dict:
    private_cloud(sim, req)
    addon = sim.state.addons.get(req.params["name"].lower())
    if addon is None:
        raise ArmError(404, "ResourceNotFound", f"The add-on '{req.params['name']}' was not found.")
    return addon


@router.add("GET", PC + "/addons/{name}", auth="bearer")
def get_addon(sim, req):
    return addon_or_404(sim, req)


@router.add("PUT", PC + "/addons/{name}", auth="bearer")
def put_addon(sim, req):
    """Long-running in ARM: answers 201 with provisioningState Building; poll GET until Succeeded."""
    private_cloud(sim, req)
    try:
        props = (req.json() or {})["properties"]
        addon_type = props["addonType"]
    except (KeyError, TypeError):
        raise ArmError(400, "InvalidRequestContent", "The body needs properties.addonType") from None
    if addon_type not in ADDON_TYPES:
        raise ArmError(
            400, "InvalidRequestContent", f"properties.addonType must be one of {sorted(ADDON_TYPES)}"
        )
    # The add-on name must match its type ("hcx" in the ARM examples; "HCX" in an AVM module): accept any case.
    if req.params["name"].lower() != addon_type.lower():
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The add-on name must be '{addon_type.lower()}' for addonType {addon_type}",
        )
    if addon_type == "HCX" and props.get("offer") not in HCX_OFFERS:
        raise ArmError(400, "InvalidRequestContent", f"properties.offer must be one of {sorted(HCX_OFFERS)}")
    key = req.params["name"].lower()
    existing = sim.state.addons.get(key)
    addon = {
        "id": f"{sim.private_cloud_id()}/addons/{key}",
        "name": key,
        "type": "Microsoft.AVS/privateClouds/addons",
        "properties": {k: v for k, v in props.items() if k != "provisioningState"},
    }
    if existing and existing["properties"]["provisioningState"] == "Succeeded":
        addon["properties"]["provisioningState"] = "Succeeded"
        sim.state.addons[key] = addon
        return addon
    addon["properties"]["provisioningState"] = "Building"
    sim.state.addons[key] = addon

    def done():
        addon["properties"]["provisioningState"] = "Succeeded"

    def failed(message):
        addon["properties"]["provisioningState"] = "Failed"

    sim.start_work("arm", "hcxAddon", "arm", on_success=done, on_failure=failed)
    return Response(201, addon)


@router.add("DELETE", PC + "/addons/{name}", auth="bearer")
def delete_addon(sim, req):
    addon_or_404(sim, req)
    del sim.state.addons[req.params["name"].lower()]
    return Response(200)


# --- HCX enterprise sites (activation keys) ---------------------------------------------------


def site_or_404(sim, req) -> dict:
    private_cloud(sim, req)
    site = sim.state.enterprise_sites.get(req.params["name"])
    if site is None:
        raise ArmError(
            404, "ResourceNotFound", f"The HCX enterprise site '{req.params['name']}' was not found."
        )
    return site


@router.add("GET", PC + "/hcxEnterpriseSites", auth="bearer")
def list_sites(sim, req):
    private_cloud(sim, req)
    return {"value": list(sim.state.enterprise_sites.values())}


@router.add("GET", PC + "/hcxEnterpriseSites/{name}", auth="bearer")
def get_site(sim, req):
    return site_or_404(sim, req)


def issue_key(sim, name: str) -> dict:
    if not sim.hcx_addon_ready():
        raise ArmError(
            409, "Conflict", "The HCX add-on is not installed on this private cloud; install it first."
        )
    site = {
        "id": f"{sim.private_cloud_id()}/hcxEnterpriseSites/{name}",
        "name": name,
        "type": "Microsoft.AVS/privateClouds/hcxEnterpriseSites",
        "properties": {
            "provisioningState": "Succeeded",
            "activationKey": secrets.token_hex(16).upper(),
            "status": "Available",
        },
    }
    sim.state.enterprise_sites[name] = site
    return site


@router.add("PUT", PC + "/hcxEnterpriseSites/{name}", auth="bearer")
def put_site(sim, req):
    """Synchronous in ARM (create_or_update, not begin_*): the key is in the answer."""
    private_cloud(sim, req)
    existing = sim.state.enterprise_sites.get(req.params["name"])
    if existing:
        return existing
    return Response(201, issue_key(sim, req.params["name"]))


@router.add("DELETE", PC + "/hcxEnterpriseSites/{name}", auth="bearer")
def delete_site(sim, req):
    site_or_404(sim, req)
    del sim.state.enterprise_sites[req.params["name"]]
    return Response(200)
