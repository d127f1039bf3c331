"""The navigation, built from what the user may see: stakeholders see nothing they cannot use."""

from django.urls import reverse

ANY_ROLE = "any role"  # pages for every member of a role (their own settings), not for a user without one

# (section, label, url name, permission: None for every signed-in user)
NAV = [
    ("Reports", "Programme dashboard", "migrations_app:dashboard", "migrations_app.view_wave"),
    ("Inventory", "Virtual machines", "inventory:virtualmachine_list", "inventory.view_virtualmachine"),
    ("Inventory", "Clusters", "inventory:cluster_list", "inventory.view_cluster"),
    ("Inventory", "Hosts", "inventory:host_list", "inventory.view_host"),
    ("Inventory", "Datastores", "inventory:datastore_list", "inventory.view_datastore"),
    ("Inventory", "Networks", "inventory:network_list", "inventory.view_network"),
    ("Sources", "vCenter connections", "inventory:vcenter_list", "inventory.view_vcenter"),
    ("Sources", "Import RVTools", "inventory:rvtools_import", "inventory.import_inventory"),
    ("HCX", "Deployment plans", "hcx:hcxplan_list", "hcx.view_hcxplan"),
    (
        "Planning",
        "Dependency groups",
        "migrations_app:dependencygroup_list",
        "migrations_app.view_dependencygroup",
    ),
    (
        "Planning",
        "Suggested groups",
        "migrations_app:dependencygroup_suggestions",
        "migrations_app.view_dependencygroup",
    ),
    ("Planning", "Dependencies", "migrations_app:dependency_list", "migrations_app.view_dependency"),
    ("Planning", "Dependency graph", "migrations_app:dependency_graph", "migrations_app.view_dependency"),
    (
        "Planning",
        "Import dependencies",
        "migrations_app:import_dependencies",
        "migrations_app.import_dependencies",
    ),
    ("Planning", "Auto-plan", "migrations_app:planproposal_add", "migrations_app.add_planproposal"),
    ("Planning", "Plan proposals", "migrations_app:planproposal_list", "migrations_app.view_planproposal"),
    ("Planning", "Waves", "migrations_app:wave_list", "migrations_app.view_wave"),
    ("Planning", "Change calendar", "migrations_app:wave_calendar", "migrations_app.view_wave"),
    ("Planning", "Target clusters", "migrations_app:targetcluster_list", "migrations_app.view_targetcluster"),
    ("Planning", "Import a wave plan", "migrations_app:waveplan_import", "migrations_app.change_wave"),
    ("Planning", "Approvals", "migrations_app:approval_list", "migrations_app.view_approval"),
    ("Activity", "VM migrations", "migrations_app:vmmigration_list", "migrations_app.view_vmmigration"),
    ("Activity", "Jobs", "core:job_list", "core.view_job"),
    ("Activity", "Audit log", "core:audit_log", "core.view_auditentry"),
    ("Activity", "Delivery log", "core:notification_list", "core.view_notification"),
    ("Activity", "Webhooks", "core:webhook_list", "core.view_webhook"),
    ("Activity", "My notifications", "core:notification_preferences", ANY_ROLE),
    ("Activity", "API", "api-docs", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_sections": []}
    # Every template rendered in a request (tables, fragments) asks again: answer once.
    if not hasattr(request, "_navigation"):
        request._navigation = _build(request, user)
    return request._navigation


def _build(request, user):
    sections: dict[str, list] = {}
    roles = sorted(g.name for g in user.groups.all())
    member = user.is_superuser or bool(roles)  # roles.has_role, without asking the database again
    for section, label, url_name, perm in NAV:
        if perm is None or (member if perm == ANY_ROLE else user.has_perm(perm)):
            url = reverse(url_name)
            sections.setdefault(section, []).append(
                {"label": label, "url": url, "active": request.path.startswith(url)}
            )
    return {"nav_sections": list(sections.items()), "user_roles": roles}
