"""The four roles as Django groups, and the permissions each holds: the one place they are defined.

Groups are created by a data migration; their permissions are set after every migrate
(post_migrate), so that a model added later is granted to the roles listed here.
"""

ADMIN = "admin"
PLANNER = "planner"
ENGINEER = "engineer"
STAKEHOLDER = "stakeholder"
ROLES = (PLANNER, ENGINEER, STAKEHOLDER, ADMIN)
# How a refusal names the people a page is for ("This page is for engineers and admins").
ROLE_PLURALS = {PLANNER: "planners", ENGINEER: "engineers", STAKEHOLDER: "stakeholders", ADMIN: "admins"}

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
    "core.view_auditentry",
    "hcx.view_hcxplan",
    "hcx.view_hcxnetworkprofileplan",
    "hcx.view_hcxsetupstep",
    "migrations_app.view_dependencygroup",
    "migrations_app.view_groupmember",
    "migrations_app.view_dependencyimport",
    "migrations_app.view_endpoint",
    "migrations_app.view_dependency",
    "migrations_app.view_targetcluster",
    "migrations_app.view_wave",
    "migrations_app.view_waveitem",
    "migrations_app.view_networkmapping",
    "migrations_app.view_readinessfinding",
    "migrations_app.view_approval",
    "migrations_app.view_planproposal",
    "migrations_app.view_batch",
    "migrations_app.view_vmmigration",
    "migrations_app.view_migrationevent",
]

# Planners shape groups and waves and submit them; they never approve.
_PLAN = [
    "migrations_app.add_dependencygroup",
    "migrations_app.change_dependencygroup",
    "migrations_app.delete_dependencygroup",
    "migrations_app.add_groupmember",
    "migrations_app.change_groupmember",
    "migrations_app.delete_groupmember",
    "migrations_app.import_dependencies",
    "migrations_app.add_targetcluster",
    "migrations_app.change_targetcluster",
    "migrations_app.delete_targetcluster",
    "migrations_app.add_wave",
    "migrations_app.change_wave",
    "migrations_app.delete_wave",
    "migrations_app.add_waveitem",
    "migrations_app.change_waveitem",
    "migrations_app.delete_waveitem",
    "migrations_app.add_networkmapping",
    "migrations_app.change_networkmapping",
    "migrations_app.delete_networkmapping",
    "migrations_app.submit_wave",
    "migrations_app.add_planproposal",
    "migrations_app.change_planproposal",
]

PERMISSIONS = {
    STAKEHOLDER: _READ,
    PLANNER: _READ
    + [
        "inventory.import_inventory",
        "inventory.discover_vcenter",
    ]
    + _PLAN,
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
        "hcx.view_hcxconnection",
        "hcx.add_hcxconnection",
        "hcx.change_hcxconnection",
        "hcx.run_setup",
        "hcx.deploy_connector",
        "migrations_app.approve_wave",
        # Launch and run migrations: batches, cancel, retry, rollback, switchover.
        "migrations_app.launch_wave",
        "migrations_app.control_migration",
        # The notification outbox: what was sent to whom, and what failed.
        "core.view_notification",
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
                for p in Permission.objects.filter(codename__in=[c for _, c in pairs]).select_related(
                    "content_type"
                )
                if f"{p.content_type.app_label}.{p.codename}" in perms
            ]
        group.permissions.set(wanted)


def has_role(user) -> bool:
    """A person the portal knows: any role (or a superuser), not just any login. Their own settings
    (notification preferences) are for them."""
    return user.is_authenticated and (user.is_superuser or user.groups.exists())


def roles_holding(*permissions: str) -> list[str]:
    """The roles that hold any of `permissions` ("app.codename"), in ROLES order (admin, holding all, last)."""
    return [
        role
        for role in ROLES
        if PERMISSIONS[role] == "__all__" or any(p in PERMISSIONS[role] for p in permissions)
    ]


def roles_text(roles) -> str:
    """ "engineers and admins", "planners, engineers, stakeholders and admins"."""
    names = [ROLE_PLURALS.get(role, role) for role in roles]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
