"""The wave and target-cluster pages: planners edit, engineers and stakeholders read, outsiders are refused;
bad input is refused with its reason and changes nothing; the wave page's queries do not grow with its VMs."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEntry
from hcx.choices import MigrationType
from migrations_app.choices import MappingTarget, WaveStatus
from migrations_app.models import NetworkMapping, TargetCluster, Wave
from tests.factories import (
    make_estate,
    make_group,
    make_link_site,
    make_network,
    make_target_cluster,
    make_vcenter,
    make_vm,
    make_wave,
)

pytestmark = pytest.mark.django_db


def wave_data(name="Wave 1", **fields):
    data = {
        "name": name,
        "sequence": "10",
        "window_start": "2025-03-08T22:00",
        "window_end": "2025-03-09T04:00",
        "time_zone": "Europe/Amsterdam",
        "site": "",
        "target_cluster": "",
        "target_datastore": "",
        "target_folder": "",
        "migration_type": MigrationType.BULK,
        "max_vms": "",
        "max_tb": "",
        "remove_isos": "on",
        "retain_mac": "on",
        "notes": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(wave, **fields):
    """What the edit form posts for `wave` as it is now, with `fields` changed."""
    zone = zoneinfo.ZoneInfo(wave.time_zone)
    data = wave_data(
        wave.name,
        sequence=str(wave.sequence),
        time_zone=wave.time_zone,
        migration_type=wave.migration_type,
        window_start=wave.window_start.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        if wave.window_start
        else "",
        window_end=wave.window_end.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if wave.window_end else "",
        site=str(wave.site_id or ""),
        target_cluster=str(wave.target_cluster_id or ""),
        revision=str(wave.revision),
    )
    data.update(fields)
    return data


# --- target clusters ---


def test_a_planner_adds_a_target_cluster_and_sees_its_usable_capacity(client_for, planner):
    site = make_link_site("Rotterdam")
    client = client_for(planner)
    assert client.get("/plan/targets/add/").status_code == 200
    response = client.post(
        "/plan/targets/add/",
        {
            "site": site.pk,
            "name": "Cluster-2",
            "sku": "AV36P",
            "hosts": "4",
            "failures_to_tolerate": "1",
            "datastores": "vsanDatastore",
            "folders": "",
        },
    )
    cluster = TargetCluster.objects.get(name="Cluster-2")
    assert response.status_code == 302 and response["Location"] == f"/plan/targets/{cluster.pk}/"
    assert cluster.datastores == ["vsanDatastore"]
    assert AuditEntry.objects.filter(
        action="target_cluster.create", object_id=cluster.pk, user=planner
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert "432 (4 vCPUs per core)" in page and "2,304 GiB" in page and "26.2 TiB usable" in page
    listing = client.get("/plan/targets/").content.decode()
    assert "432 · 2,304 · 26.2" in listing


@pytest.mark.parametrize(
    "hosts,ftt,field,message",
    [
        ("2", "1", "hosts", "at least 3"),
        ("17", "1", "hosts", "An AVS cluster has at most 16 hosts."),
        ("4", "2", "failures_to_tolerate", "RAID-1 with FTT=2 needs at least 5 hosts; this cluster has 4."),
        ("7", "4", "failures_to_tolerate", "AVS supports FTT 1, 2 or 3."),
    ],
)
def test_a_cluster_that_avs_cannot_have_is_refused(client_for, planner, hosts, ftt, field, message):
    site = make_link_site("Rotterdam")
    response = client_for(planner).post(
        "/plan/targets/add/",
        {"site": site.pk, "name": "C", "sku": "AV36", "hosts": hosts, "failures_to_tolerate": ftt},
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert not TargetCluster.objects.exists()


def test_a_cluster_that_waves_target_cannot_be_deleted(client_for, planner):
    cluster = make_target_cluster()
    make_wave("W1", target_cluster=cluster)
    client = client_for(planner)
    response = client.post(f"/plan/targets/{cluster.pk}/delete/", follow=True)
    assert "is the target of waves; point them elsewhere first: W1." in response.content.decode()
    assert TargetCluster.objects.filter(pk=cluster.pk).exists()
    Wave.objects.all().delete()
    assert client.post(f"/plan/targets/{cluster.pk}/delete/").status_code == 302
    assert not TargetCluster.objects.exists()


# --- waves: create, edit, delete ---


def test_a_planner_creates_a_wave_with_a_window_in_its_time_zone(client_for, planner):
    cluster = make_target_cluster(datastores=["vsanDatastore"])
    client = client_for(planner)
    assert client.get("/plan/waves/add/").status_code == 200
    response = client.post(
        "/plan/waves/add/", wave_data(target_cluster=cluster.pk, target_datastore="vsanDatastore")
    )
    wave = Wave.objects.get(name="Wave 1")
    assert response.status_code == 302 and response["Location"] == f"/plan/waves/{wave.pk}/"
    # 22:00 in Amsterdam in winter (UTC+1) is 21:00 UTC
    assert wave.window_start == datetime.datetime(2025, 3, 8, 21, 0, tzinfo=datetime.UTC)
    assert wave.window_end == datetime.datetime(2025, 3, 9, 3, 0, tzinfo=datetime.UTC)
    assert wave.site == cluster.site  # taken from the cluster
    assert wave.revision == 1 and wave.status == WaveStatus.DRAFT
    assert AuditEntry.objects.filter(action="wave.create", object_id=wave.pk).exists()
    page = client.get(response["Location"]).content.decode()
    assert "2025-03-08 22:00 – 2025-03-09 04:00 Europe/Amsterdam" in page
    # the edit form shows the window as it was typed
    form = client.get(f"/plan/waves/{wave.pk}/edit/").content.decode()
    assert 'value="2025-03-08T22:00"' in form


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"window_end": "2025-03-08T21:00"}, "window_end", "The change window must end after it starts."),
        (
            {"window_end": ""},
            "window_end",
            "Give both the start and the end of the change window, or neither.",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "'Mars/Olympus' is not a time zone name"),
        (
            {"window_start": "2025-03-30T02:30", "window_end": "2025-03-30T05:00"},
            "window_start",
            "2025-03-30 02:30 does not exist in Europe/Amsterdam",
        ),
        ({"max_vms": "0"}, "max_vms", "A cap of 0 VMs leaves nothing to migrate"),
        ({"max_tb": "-1"}, "max_tb", "greater than or equal to 0"),
    ],
)
def test_bad_wave_input_is_refused_with_its_reason_and_nothing_is_written(
    client_for, planner, fields, field, message
):
    response = client_for(planner).post("/plan/waves/add/", wave_data(**fields))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Wave.objects.exists() and not AuditEntry.objects.exists()


def test_a_target_cluster_of_another_site_or_a_datastore_it_lacks_is_refused(client_for, planner):
    cluster = make_target_cluster(datastores=["vsanDatastore"])
    other_site = make_link_site("Elsewhere")
    client = client_for(planner)
    response = client.post("/plan/waves/add/", wave_data(site=other_site.pk, target_cluster=cluster.pk))
    assert response.status_code == 400
    assert (
        f"Cluster-1 is a cluster of the site {cluster.site}, not of Elsewhere."
        in response.context["form"].errors["target_cluster"]
    )
    response = client.post(
        "/plan/waves/add/", wave_data(target_cluster=cluster.pk, target_datastore="nfs-01")
    )
    assert (
        "Cluster-1 has no datastore 'nfs-01'; its datastores: vsanDatastore."
        in response.context["form"].errors["target_datastore"]
    )
    assert not Wave.objects.exists()


def test_a_duplicate_wave_name_is_refused(client_for, planner):
    make_wave("Wave 1")
    response = client_for(planner).post("/plan/waves/add/", wave_data())
    assert response.status_code == 400 and "name" in response.context["form"].errors
    assert Wave.objects.count() == 1


def test_an_edit_bumps_the_revision_and_says_nothing_when_nothing_changed(client_for, planner):
    wave = make_wave(
        "W1",
        window_start=datetime.datetime(2025, 5, 1, 20, tzinfo=datetime.UTC),
        window_end=datetime.datetime(2025, 5, 1, 23, tzinfo=datetime.UTC),
        time_zone="UTC",
    )
    client = client_for(planner)
    response = client.post(f"/plan/waves/{wave.pk}/edit/", edit_data(wave), follow=True)
    assert "Nothing changed in W1." in response.content.decode()
    wave.refresh_from_db()
    assert wave.revision == 1
    response = client.post(
        f"/plan/waves/{wave.pk}/edit/", edit_data(wave, notes="freeze", max_vms="40"), follow=True
    )
    wave.refresh_from_db()
    assert wave.revision == 2 and wave.notes == "freeze" and wave.max_vms == 40
    assert "Wave W1 saved (revision 2)." in response.content.decode()
    entry = AuditEntry.objects.get(action="wave.change", object_id=wave.pk)
    assert (
        entry.user == planner
        and entry.detail["revision"] == 2
        and entry.detail["fields"] == ["max_vms", "notes"]
    )


def test_a_stale_form_is_refused_and_the_newer_revision_stays(client_for, planner):
    wave = make_wave("W1")
    client = client_for(planner)
    stale = edit_data(wave, notes="from the old tab")
    client.post(f"/plan/waves/{wave.pk}/edit/", edit_data(wave, notes="saved first"))
    response = client.post(f"/plan/waves/{wave.pk}/edit/", stale)
    assert response.status_code == 409
    assert (
        "W1 changed since you opened it (you edited revision 1; it is now at revision 2). Nothing was saved"
        in response.content.decode()
    )
    wave.refresh_from_db()
    assert wave.notes == "saved first" and wave.revision == 2


@pytest.mark.parametrize("status", [WaveStatus.SUBMITTED, WaveStatus.APPROVED])
def test_editing_a_submitted_or_approved_wave_withdraws_it(client_for, planner, engineer, status):
    wave = make_wave("W1", status=status, submitted_by=planner)
    response = client_for(planner).post(
        f"/plan/waves/{wave.pk}/edit/", edit_data(wave, sequence="5"), follow=True
    )
    page = response.content.decode()
    assert "Approval withdrawn: the wave changed" in page and "It is a draft again" in page
    wave.refresh_from_db()
    assert wave.status == WaveStatus.DRAFT and wave.revision == 2 and wave.submitted_by is None
    withdrawn = AuditEntry.objects.get(action="wave.withdraw_approval", object_id=wave.pk)
    assert withdrawn.user == planner and withdrawn.detail["previous_status"] == status


@pytest.mark.parametrize("status", [WaveStatus.RUNNING, WaveStatus.COMPLETED])
def test_a_launched_wave_cannot_be_edited(client_for, planner, status):
    wave = make_wave("W1", status=status)
    client = client_for(planner)
    response = client.get(f"/plan/waves/{wave.pk}/edit/", follow=True)
    assert "it cannot be changed" in response.content.decode()
    response = client.post(f"/plan/waves/{wave.pk}/edit/", edit_data(wave, notes="late"))
    assert response.status_code == 400
    assert "a wave that has been launched cannot be changed" in response.content.decode()
    wave.refresh_from_db()
    assert wave.notes == "" and wave.revision == 1


def test_only_draft_or_rejected_waves_are_deleted(client_for, planner):
    vc = make_vcenter()
    draft = make_wave("Draft", [make_vm(vc, "a")])
    submitted = make_wave("Submitted", status=WaveStatus.SUBMITTED)
    client = client_for(planner)
    assert client.get(f"/plan/waves/{draft.pk}/delete/").status_code == 200
    assert client.post(f"/plan/waves/{draft.pk}/delete/")["Location"] == "/plan/waves/"
    assert not Wave.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(action="wave.delete", object_repr="Draft").exists()
    response = client.post(f"/plan/waves/{submitted.pk}/delete/", follow=True)
    assert "only draft or rejected waves can be deleted" in response.content.decode()
    assert Wave.objects.filter(pk=submitted.pk).exists()


# --- the list and the wave page ---


def test_the_wave_list_filters_by_status_and_shows_counts(client_for, stakeholder):
    estate = make_estate(vms=6, devices=False)
    make_wave("Alpha", estate.vms[:4], max_vms=3)
    make_wave("Beta", estate.vms[4:], status=WaveStatus.APPROVED)
    client = client_for(stakeholder)
    page = client.get("/plan/waves/").content.decode()
    assert "Alpha" in page and "Beta" in page and "2 waves" in page
    rows = {r.name: r for r in client.get("/plan/waves/").context["table"].page.object_list.data}
    assert rows["Alpha"].vm_count == 4 and rows["Beta"].vm_count == 2
    assert rows["Alpha"].used_mib == sum(20 * 1024 + 512 * i for i in range(4))
    response = client.get("/plan/waves/", {"status": WaveStatus.APPROVED})
    assert [w.name for w in response.context["table"].page.object_list.data] == ["Beta"]
    assert "Add a wave" not in page  # stakeholders see no buttons they cannot use


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_wave_list_makes_as_many_queries_for_many_waves_as_for_few(client_for, planner):
    estate = make_estate(vms=40, devices=False)
    cluster = make_target_cluster()
    make_wave("W0", estate.vms[:2], target_cluster=cluster)
    client = client_for(planner)
    few = count_queries(client, "/plan/waves/")
    for n in range(1, 20):
        make_wave(f"W{n}", estate.vms[2 * n : 2 * n + 2], target_cluster=cluster, site=cluster.site)
    assert count_queries(client, "/plan/waves/") == few


def wave_with_vms(count, prefix=""):
    estate = make_estate(vms=count, networks=3, prefix=prefix)
    cluster = make_target_cluster(sku="AV52", hosts=6)
    wave = make_wave(f"{prefix}wave", estate.vms, target_cluster=cluster, site=cluster.site)
    make_group(f"{prefix}app", estate.vms[: count // 2])
    NetworkMapping.objects.create(wave=wave, source=estate.networks[0], target_name="seg-100")
    return wave


def test_the_wave_page_makes_as_many_queries_at_200_vms_as_at_10(
    client_for, planner, django_assert_max_num_queries
):
    client = client_for(planner)
    small, large = wave_with_vms(10), wave_with_vms(200, prefix="big-")
    few = count_queries(client, f"/plan/waves/{small.pk}/")
    assert count_queries(client, f"/plan/waves/{large.pk}/") == few
    with django_assert_max_num_queries(few):
        assert client.get(f"/plan/waves/{large.pk}/").status_code == 200


def test_the_wave_page_shows_totals_fit_networks_and_vms(client_for, stakeholder):
    vc = make_vcenter()
    dvs = make_network(vc, "App-VLAN-10", vlan_id=10)
    std = make_network(vc, "Old-VSS", switch_type="standard", vlan_id=20)
    vms = [
        make_vm(
            vc,
            f"app-{n}",
            num_cpu=4,
            memory_mib=8192,
            provisioned_mib=100 * 1024,
            used_mib=50 * 1024,
            nics=[dvs] + ([std] if n == 0 else []),
        )
        for n in range(3)
    ]
    cluster = make_target_cluster(sku="AV36P", hosts=4)
    cluster.site.networks.add(dvs)
    wave = make_wave("W1", vms, target_cluster=cluster, site=cluster.site, max_vms=2)
    NetworkMapping.objects.create(
        wave=wave, source=dvs, target_kind=MappingTarget.EXTENDED, target_name="App-VLAN-10"
    )
    make_group("app", vms[:2] + [make_vm(vc, "app-db")])
    response = client_for(stakeholder).get(f"/plan/waves/{wave.pk}/")
    page = response.content.decode()
    totals = response.context["totals"]
    assert (totals.vms, totals.vcpus, totals.memory_gb) == (3, 12, 24)
    assert "3 VMs, over the cap of 2" in page
    assert response.context["fit"].fits and "fits" in page
    networks = {n.name: n for n in response.context["networks"]}
    assert (
        networks["App-VLAN-10"].vms == 3
        and networks["App-VLAN-10"].in_plan
        and not networks["App-VLAN-10"].notes
    )
    assert networks["Old-VSS"].vms == 1 and not networks["Old-VSS"].mapped
    assert "Not mapped" in page and "HCX extends only distributed port groups" in page
    assert "app: 2 of 3 VMs here" in page  # the group is not whole in this wave
    assert "app-0" in page and "Wave default (Bulk)" not in page  # stakeholders get no type selector
    assert "Edit" not in page and "Add groups" not in page


def _network_views(client, wave) -> dict:
    """For each source network of the wave: what the page, the API and readiness say about where it lands."""
    from migrations_app.readiness.actions import do_run_readiness

    response = client.get(f"/plan/waves/{wave.pk}/")
    page = {n.name: n for n in response.context["networks"]}
    html = response.content.decode()
    api = {row["name"]: row for row in client.get(f"/api/waves/{wave.pk}/networks/").json()}
    do_run_readiness(wave, acting_user=response.wsgi_request.user)
    blocked = " ".join(wave.findings.filter(rule="network-unmapped").values_list("message", flat=True))
    return {
        name: {
            "page": page[name].lands.by or "none",
            "api": api[name]["mapped_by"] or "none",
            "page_says_not_mapped": page[name].notes and page[name].notes[0].startswith("Not mapped"),
            "html": html.split(f'data-network="{name}"')[1].split("</tr>")[0],
            "readiness_blocks": name in blocked,
        }
        for name in page
    }


def test_the_wave_page_the_api_and_readiness_agree_where_each_network_lands(client_for, planner):
    vc = make_vcenter()
    extended = make_network(vc, "App-VLAN-10", vlan_id=10)  # the site plan extends it, the wave maps nothing
    mapped = make_network(vc, "Db-VLAN-20", vlan_id=20)  # the wave maps it to a segment
    nowhere = make_network(vc, "Dev-VLAN-30", vlan_id=30)  # neither
    cluster = make_target_cluster(hosts=6)
    cluster.site.networks.add(extended)
    vm = make_vm(
        vc,
        "app-1",
        power_state="poweredOn",
        hw_version=19,
        tools_status="toolsOk",
        nics=[extended, mapped, nowhere],
    )
    wave = make_wave("W1", [vm], target_cluster=cluster, site=cluster.site)
    NetworkMapping.objects.create(
        wave=wave, source=mapped, target_kind=MappingTarget.SEGMENT, target_name="seg-db"
    )
    found = _network_views(client_for(planner), wave)

    assert found["App-VLAN-10"]["page"] == found["App-VLAN-10"]["api"] == "site_plan"
    assert not found["App-VLAN-10"]["readiness_blocks"] and not found["App-VLAN-10"]["page_says_not_mapped"]
    assert "extended by the site plan" in found["App-VLAN-10"]["html"]
    assert "not mapped" not in found["App-VLAN-10"]["html"].lower()
    assert found["Db-VLAN-20"]["page"] == found["Db-VLAN-20"]["api"] == "mapping"
    assert not found["Db-VLAN-20"]["readiness_blocks"] and "seg-db" in found["Db-VLAN-20"]["html"]
    assert found["Dev-VLAN-30"]["page"] == found["Dev-VLAN-30"]["api"] == "none"
    assert found["Dev-VLAN-30"]["readiness_blocks"] and found["Dev-VLAN-30"]["page_says_not_mapped"]

    # Take the extension out of the site plan: all three views now call the network unmapped.
    cluster.site.networks.remove(extended)
    again = _network_views(client_for(planner), wave)["App-VLAN-10"]
    assert (
        again["page"] == again["api"] == "none"
        and again["readiness_blocks"]
        and again["page_says_not_mapped"]
    )


def test_a_mapping_in_the_wave_wins_over_the_site_plans_extension(client_for, stakeholder):
    vc = make_vcenter()
    net = make_network(vc, "App-VLAN-10", vlan_id=10)
    cluster = make_target_cluster()
    cluster.site.networks.add(net)
    wave = make_wave("W1", [make_vm(vc, "app-1", nics=[net])], target_cluster=cluster, site=cluster.site)
    NetworkMapping.objects.create(
        wave=wave, source=net, target_kind=MappingTarget.SEGMENT, target_name="seg-new"
    )
    row = client_for(stakeholder).get(f"/api/waves/{wave.pk}/networks/").json()[0]
    assert (row["mapped_by"], row["target_kind"], row["target_name"]) == ("mapping", "segment", "seg-new")


# --- who may do what ---


@pytest.mark.parametrize(
    "url",
    [
        "/plan/waves/",
        "/plan/targets/",
        "/plan/waves/{wave}/",
        "/plan/targets/{cluster}/",
        "/plan/waves/plan/export/",
    ],
)
def test_engineers_and_stakeholders_read(client_for, engineer, stakeholder, outsider, url):
    cluster = make_target_cluster()
    wave = make_wave("W1", target_cluster=cluster)
    url = url.format(wave=wave.pk, cluster=cluster.pk)
    for user in (engineer, stakeholder):
        assert client_for(user).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/plan/waves/add/",
        "/plan/waves/{wave}/edit/",
        "/plan/waves/{wave}/delete/",
        "/plan/targets/add/",
        "/plan/targets/{cluster}/edit/",
        "/plan/targets/{cluster}/delete/",
        "/plan/waves/{wave}/add-groups/",
        "/plan/waves/{wave}/add-vms/",
        "/plan/waves/plan/import/",
    ],
)
def test_only_planners_change(client_for, planner, engineer, stakeholder, url):
    cluster = make_target_cluster()
    wave = make_wave("W1", target_cluster=cluster)
    url = url.format(wave=wave.pk, cluster=cluster.pk)
    for user in (engineer, stakeholder):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, {}).status_code == 403
    assert client_for(planner).get(url).status_code == 200
    assert Wave.objects.get(pk=wave.pk).revision == 1


@pytest.mark.parametrize(
    "url",
    [
        "/plan/waves/{wave}/remove/",
        "/plan/waves/{wave}/migration-type/",
        "/plan/waves/{wave}/mappings/",
        "/plan/waves/{wave}/mappings/1/delete/",
    ],
)
def test_item_and_mapping_changes_need_a_planner(client_for, engineer, stakeholder, url):
    wave = make_wave("W1")
    url = url.format(wave=wave.pk)
    for user in (engineer, stakeholder):
        assert client_for(user).post(url, {}).status_code == 403


def test_forms_need_the_csrf_token(client, planner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(planner)
    assert strict.post("/plan/waves/add/", wave_data()).status_code == 403
    assert not Wave.objects.exists()
