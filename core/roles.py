"""The four roles as Django groups, and the permissions each holds: the one place they are defined.

Groups are created by a data migration; their permissions are set after every migrate
(post_migrate), so that a model added later is granted to the roles listed here.
"""

ADMIN = "admin"
PLANNER = "planner"
ENGINEER = "engineer"
STAKEHOLDER = "stakeholder"
ROLES = (PLANNER, ENGINEER, STAKEHOLDER, ADMIN)

_READ = [
    "inventory.view_vcenter",
    "inventory.view_cluster",
    "inventory.view_host",
    "inventory.view_datastore",
    "inventory.view_network",
    "inventory.view_virtualmachine",
    "inventory.view_virtualdisk",
    "inventory.view_virtualnic",
    "inventory.view_snapshot",
    "inventory.view_cdrom",
    "inventory.view_tag",
    "core.view_job",
    "hcx.view_hcxplan",
    "hcx.view_hcxnetworkprofileplan",
]

PERMISSIONS = {
    STAKEHOLDER: _READ,
    PLANNER: _READ
    + [
        "inventory.import_inventory",
        "inventory.discover_vcenter",
    ],
    ENGINEER: _READ
    + [
        "inventory.import_inventory",
        "inventory.discover_vcenter",
        "inventory.add_vcenter",
        "inventory.change_vcenter",
        "core.cancel_job",
        "hcx.add_hcxplan",
        "hcx.change_hcxplan",
        "hcx.delete_hcxplan",
        "hcx.add_hcxnetworkprofileplan",
        "hcx.change_hcxnetworkprofileplan",
        "hcx.delete_hcxnetworkprofileplan",
    ],
    ADMIN: "__all__",
}


def sync_role_permissions(**kwargs):
    from django.contrib.auth.models import Group, Permission

    for role, perms in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if perms == "__all__":
            wanted = Permission.objects.all()
        else:
            pairs = [p.split(".", 1) for p in perms]
            wanted = [
                p
                for p in Permission.objects.filter(codename__in=[c for _, c in pairs]).select_related("content_type")
                if f"{p.content_type.app_label}.{p.codename}" in perms
            ]
        group.permissions.set(wanted)
