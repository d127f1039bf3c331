"""Checks shared by the forms and the API serializers, so both refuse the same input with the same words."""

from django.conf import settings


def cluster_problems(hosts: int | None, ftt: int | None) -> dict[str, str]:
    """What is wrong with a target cluster's host count and vSAN failures-to-tolerate."""
    problems = {}
    most = settings.AVS_MAX_HOSTS_PER_CLUSTER
    if hosts is not None and hosts < 3:
        problems["hosts"] = "An AVS cluster has at least 3 hosts."
    elif hosts is not None and hosts > most:
        problems["hosts"] = f"An AVS cluster has at most {most} hosts."
    if ftt is not None and not 1 <= ftt <= 3:
        problems["failures_to_tolerate"] = "AVS supports FTT 1, 2 or 3."
    elif hosts is not None and ftt is not None and hosts < 2 * ftt + 1:
        problems["failures_to_tolerate"] = (
            f"RAID-1 with FTT={ftt} needs at least {2 * ftt + 1} hosts; this cluster has {hosts}."
        )
    return problems


def wave_target_problems(values: dict) -> dict[str, str]:
    """Both ends of the change window or neither (Wave.clean checks their order). The target cluster must belong to the wave's site, and the datastore and folder to the cluster
    (when it lists them). A cluster chosen without a site sets the site (values is updated)."""
    problems = {}
    start, end = values.get("window_start"), values.get("window_end")
    if (start is None) != (end is None):
        problems["window_end" if end is None else "window_start"] = (
            "Give both the start and the end of the change window, or neither."
        )
    site, cluster = values.get("site"), values.get("target_cluster")
    if cluster is not None:
        if site is None:
            values["site"] = cluster.site
        elif cluster.site_id != site.pk:
            problems["target_cluster"] = (
                f"{cluster.name} is a cluster of the site {cluster.site}, not of {site}."
            )
        for name, allowed, what in (
            ("target_datastore", cluster.datastores, "datastore"),
            ("target_folder", cluster.folders, "folder"),
        ):
            value = values.get(name)
            if value and allowed and value not in allowed:
                problems[name] = f"{cluster.name} has no {what} {value!r}; its {what}s: {', '.join(allowed)}."
    if values.get("max_vms") == 0:
        problems["max_vms"] = "A cap of 0 VMs leaves nothing to migrate; leave it empty for no cap."
    return problems
