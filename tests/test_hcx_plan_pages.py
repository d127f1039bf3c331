"""The deployment-plan pages and API: engineers write, planners and stakeholders read."""

import pytest

from core.models import AuditEntry
from hcx.choices import LinkType, ProfileKind
from hcx.models import HcxNetworkProfilePlan, HcxPlan
from tests.test_hcx_plan_checks import SOUND_PROFILES, make_network, make_plan

pytestmark = pytest.mark.django_db


def form_data(name="Rotterdam", network_ids=(), profiles=None, **fields):
    """What the add/edit form posts: the plan fields and the four-row profile formset."""
    data = {
        "name": name,
        "vcenter": "",
        "connector_hostname": "hcx-rtm",
        "connector_ip": "192.168.10.9",
        "connector_prefix_length": "24",
        "connector_gateway": "192.168.10.1",
        "dns_servers": "192.168.1.53, 192.168.1.54",
        "ntp_servers": "pool.ntp.org",
        "avs_block": "10.100.0.0/22",
        "link_type": LinkType.EXPRESSROUTE,
        "bandwidth_mbps": "1000",
        "latency_ms": "20",
        "concurrent_migrations": "40",
        "estate_vm_count": "300",
        "notes": "",
        "networks": [str(i) for i in network_ids],
    }
    data.update(fields)
    rows = (
        profiles
        if profiles is not None
        else [
            {
                "kind": kind,
                **{
                    k: (", ".join(f"{r['start']}-{r['end']}" for r in v) if k == "ip_ranges" else str(v))
                    for k, v in values.items()
                },
            }
            for kind, values in SOUND_PROFILES.items()
        ]
    )
    data.update(
        {
            "profiles-TOTAL_FORMS": str(len(rows)),
            "profiles-INITIAL_FORMS": "0",
            "profiles-MIN_NUM_FORMS": "0",
            "profiles-MAX_NUM_FORMS": "4",
        }
    )
    for number, row in enumerate(rows):
        row = {"mtu": "1500", "network": "", "primary_dns": "", "secondary_dns": "", **row}
        data.update({f"profiles-{number}-{key}": value for key, value in row.items()})
    return data


def test_an_engineer_creates_a_plan_through_the_form(client_for, engineer):
    client = client_for(engineer)
    assert client.get("/hcx/plans/add/").status_code == 200
    response = client.post("/hcx/plans/add/", form_data())
    plan = HcxPlan.objects.get(name="Rotterdam")
    assert response.status_code == 302 and response["Location"] == f"/hcx/plans/{plan.pk}/"
    assert plan.dns_servers == ["192.168.1.53", "192.168.1.54"]
    assert sorted(plan.profiles.values_list("kind", flat=True)) == sorted(ProfileKind.values)
    assert plan.profiles.get(kind=ProfileKind.MANAGEMENT).ip_ranges == [
        {"start": "192.168.10.20", "end": "192.168.10.29"}
    ]
    assert AuditEntry.objects.filter(action="hcx_plan.create", object_id=plan.pk, user=engineer).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Ready" in page and "Not ready" not in page


def test_an_engineer_edits_a_plan_and_the_revision_moves(client_for, engineer):
    plan = make_plan("Utrecht")
    uplink = plan.profiles.get(kind=ProfileKind.UPLINK)
    client = client_for(engineer)
    assert client.get(f"/hcx/plans/{plan.pk}/edit/").status_code == 200
    rows = [
        {
            "id": str(p.pk),
            "kind": p.kind,
            "port_group": p.port_group,
            "gateway": p.gateway,
            "prefix_length": str(p.prefix_length),
            "ip_ranges": ", ".join(f"{r['start']}-{r['end']}" for r in p.ip_ranges),
            "mtu": str(p.mtu),
        }
        for p in plan.profiles.order_by("pk")
    ]
    for row in rows:
        if row["kind"] == ProfileKind.UPLINK:
            row["mtu"] = "1500"
    data = form_data("Utrecht", profiles=rows, link_type=LinkType.VPN)
    data["profiles-INITIAL_FORMS"] = str(len(rows))
    response = client.post(f"/hcx/plans/{plan.pk}/edit/", data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.link_type == LinkType.VPN and plan.revision == 2
    assert HcxNetworkProfilePlan.objects.get(pk=uplink.pk).mtu == 1500
    page = client.get(f"/hcx/plans/{plan.pk}/").content.decode()
    assert "Not ready" in page and "tunnels over a VPN need 1350 or less" in page


def test_a_bad_range_is_refused_with_its_reason_and_nothing_is_written(client_for, engineer):
    data = form_data()
    data["profiles-1-ip_ranges"] = "192.168.20.30-192.168.20.20"
    response = client_for(engineer).post("/hcx/plans/add/", data)
    assert response.status_code == 400
    assert "starts at 192.168.20.30, after its end 192.168.20.20" in response.content.decode()
    assert not HcxPlan.objects.exists() and not HcxNetworkProfilePlan.objects.exists()


def test_the_same_profile_kind_twice_is_refused(client_for, engineer):
    data = form_data()
    data["profiles-3-kind"] = ProfileKind.VMOTION
    response = client_for(engineer).post("/hcx/plans/add/", data)
    assert response.status_code == 400 and "vMotion" in response.content.decode()
    assert not HcxPlan.objects.exists()


def test_an_empty_vmotion_row_means_no_vmotion_profile(client_for, engineer):
    data = form_data()
    for key in ("port_group", "gateway", "prefix_length", "ip_ranges"):
        data[f"profiles-2-{key}"] = ""
    assert client_for(engineer).post("/hcx/plans/add/", data).status_code == 302
    kinds = set(HcxPlan.objects.get().profiles.values_list("kind", flat=True))
    assert kinds == set(ProfileKind.values) - {ProfileKind.VMOTION}


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_planners_and_stakeholders_read_but_cannot_change(request, client_for, persona):
    plan = make_plan()
    client = client_for(request.getfixturevalue(persona))
    for path in ("/hcx/plans/", f"/hcx/plans/{plan.pk}/", f"/hcx/plans/{plan.pk}/export/"):
        assert client.get(path).status_code == 200, path
    assert "Deployment plans" in client.get("/").content.decode()
    detail = client.get(f"/hcx/plans/{plan.pk}/").content.decode()
    assert f"/hcx/plans/{plan.pk}/edit/" not in detail
    assert client.get("/hcx/plans/add/").status_code == 403
    assert client.post("/hcx/plans/add/", form_data("Other")).status_code == 403
    assert client.get(f"/hcx/plans/{plan.pk}/edit/").status_code == 403
    assert client.post(f"/hcx/plans/{plan.pk}/edit/", form_data(plan.name)).status_code == 403
    assert client.post(f"/hcx/plans/{plan.pk}/delete/").status_code == 403
    assert HcxPlan.objects.filter(pk=plan.pk, revision=1).exists() and HcxPlan.objects.count() == 1


def test_the_export_renders_the_plan_checks_and_ports(client_for, stakeholder):
    plan = make_plan(
        bandwidth_mbps=50,
        profiles={
            ProfileKind.UPLINK: {
                "gateway": "10.100.1.1",
                "ip_ranges": [{"start": "10.100.1.10", "end": "10.100.1.20"}],
            }
        },
    )
    page = client_for(stakeholder).get(f"/hcx/plans/{plan.pk}/export/").content.decode()
    assert "NOT READY" in page and "@media print" in page
    assert "The range 10.100.1.10-10.100.1.20 overlaps the AVS management block 10.100.0.0/22." in page
    assert "UDP" in page and "4500" in page and "192.168.10.20-192.168.10.29" in page
    assert "https://" not in page  # self-contained: no CDN


def test_an_engineer_deletes_a_plan_after_confirming(client_for, engineer):
    plan = make_plan()
    client = client_for(engineer)
    assert client.get(f"/hcx/plans/{plan.pk}/delete/").status_code == 200
    assert HcxPlan.objects.filter(pk=plan.pk).exists()
    assert client.post(f"/hcx/plans/{plan.pk}/delete/").status_code == 302
    assert not HcxPlan.objects.exists() and not HcxNetworkProfilePlan.objects.exists()
    assert AuditEntry.objects.filter(action="hcx_plan.delete", user=engineer).exists()


def test_the_list_filters_and_its_queries_do_not_grow_with_plans(
    client_for, planner, django_assert_max_num_queries
):
    for number in range(3):
        make_plan(f"Site {number}", networks=3)
    client = client_for(planner)
    with django_assert_max_num_queries(12) as few:
        client.get("/hcx/plans/")
    for number in range(3, 12):
        make_plan(f"Site {number}", networks=3)
    with django_assert_max_num_queries(len(few)):
        page = client.get("/hcx/plans/").content.decode()
    assert "Site 11" in page
    filtered = client.get("/hcx/plans/?q=Site+1").content.decode()
    assert "Site 10" in filtered and "Site 2" not in filtered


def test_the_plan_page_queries_do_not_grow_with_networks(client_for, planner, django_assert_max_num_queries):
    plan = make_plan(networks=2)
    client = client_for(planner)
    with django_assert_max_num_queries(20) as few:
        client.get(f"/hcx/plans/{plan.pk}/")
    for number in range(30):
        plan.networks.add(make_network(plan.vcenter, f"more-{number}", vlan_id=300 + number))
    with django_assert_max_num_queries(len(few)):
        assert client.get(f"/hcx/plans/{plan.pk}/").status_code == 200


# --- API ---


def api_plan(**fields):
    return {
        "name": "Eindhoven",
        "connector_hostname": "hcx-ehv",
        "connector_ip": "192.168.10.9",
        "connector_prefix_length": 24,
        "connector_gateway": "192.168.10.1",
        "dns_servers": ["192.168.1.53"],
        "ntp_servers": ["pool.ntp.org"],
        "avs_block": "10.100.0.0/22",
        "link_type": LinkType.VPN,
        "bandwidth_mbps": 50,
        "latency_ms": 30,
        "networks": [],
        **fields,
    }


def test_an_engineer_writes_a_plan_through_the_api_and_reads_its_checks(client_for, engineer):
    client = client_for(engineer)
    response = client.post("/api/hcx-plans/", api_plan(), content_type="application/json")
    assert response.status_code == 201, response.json()
    plan_id = response.json()["id"]
    for kind, values in SOUND_PROFILES.items():
        body = {"plan": plan_id, "kind": kind, "mtu": 1500, **values}
        created = client.post("/api/hcx-network-profiles/", body, content_type="application/json")
        assert created.status_code == 201, created.json()
    checks = client.get(f"/api/hcx-plans/{plan_id}/checks/").json()
    assert checks["ready"] is False and checks["errors"] >= 1
    rules = {(f["rule"], f["severity"]) for f in checks["findings"]}
    assert ("mtu", "error") in rules and ("link", "warning") in rules
    assert all(f["fix"] for f in checks["findings"] if f["severity"] == "error")
    assert client.get(f"/api/hcx-plans/{plan_id}/").json()["revision"] == 1 + len(SOUND_PROFILES)


def test_the_api_refuses_a_bad_range_with_its_reason(client_for, engineer):
    plan = make_plan(profiles={ProfileKind.REPLICATION: None})
    body = {
        "plan": plan.pk,
        "kind": ProfileKind.REPLICATION,
        "port_group": "R",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.40.20", "end": "not-an-ip"}],
    }
    response = client_for(engineer).post("/api/hcx-network-profiles/", body, content_type="application/json")
    assert response.status_code == 400 and "ip_ranges" in response.json()
    assert "not-an-ip" in str(response.json()["ip_ranges"])


def test_a_second_profile_of_the_same_kind_is_refused_by_the_api(client_for, engineer):
    plan = make_plan()
    body = {
        "plan": plan.pk,
        "kind": ProfileKind.UPLINK,
        "port_group": "U2",
        "prefix_length": 24,
        "ip_ranges": [{"start": "192.168.50.20", "end": "192.168.50.29"}],
    }
    assert (
        client_for(engineer)
        .post("/api/hcx-network-profiles/", body, content_type="application/json")
        .status_code
        == 400
    )


def test_the_api_reads_and_writes_the_gateways_of_the_extended_networks(client_for, engineer):
    client = client_for(engineer)
    gateways = {"App-VLAN101": "10.10.101.1/24", "App VLAN 102": "10.10.102.1/24"}
    response = client.post(
        "/api/hcx-plans/", api_plan(extension_gateways=gateways), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    plan = HcxPlan.objects.get(pk=response.json()["id"])
    assert plan.extension_gateways == gateways and response.json()["extension_gateways"] == gateways
    response = client.patch(
        f"/api/hcx-plans/{plan.pk}/",
        {"extension_gateways": {"App-VLAN101": " 10.10.41.1/24 "}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert client.get(f"/api/hcx-plans/{plan.pk}/").json()["extension_gateways"] == {
        "App-VLAN101": "10.10.41.1/24"
    }
    # The form (lines of "name gateway/prefix") shows what the API wrote.
    assert "App-VLAN101 10.10.41.1/24" in client.get(f"/hcx/plans/{plan.pk}/edit/").content.decode()


@pytest.mark.parametrize(
    "gateways, reason",
    [
        ({"App-VLAN101": "10.10.41.1"}, "has no prefix"),
        ({"App-VLAN101": "10.10.41.0/24"}, "network's own address"),
        ({"App-VLAN101": "gateway/24"}, "is not a gateway/prefix"),
        ({" ": "10.10.41.1/24"}, "give the network's name"),
        (["App-VLAN101 10.10.41.1/24"], "dictionary"),
    ],
)
def test_the_api_refuses_gateways_the_form_refuses(client_for, engineer, gateways, reason):
    plan = make_plan(extension_gateways={"App-VLAN101": "10.10.101.1/24"})
    response = client_for(engineer).patch(
        f"/api/hcx-plans/{plan.pk}/", {"extension_gateways": gateways}, content_type="application/json"
    )
    assert response.status_code == 400 and reason in str(response.json()["extension_gateways"])
    plan.refresh_from_db()
    assert plan.extension_gateways == {"App-VLAN101": "10.10.101.1/24"} and plan.revision == 1


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_planners_and_stakeholders_read_the_api_but_cannot_write(request, client_for, persona):
    plan = make_plan()
    profile = plan.profiles.first()
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/api/hcx-plans/").json()["count"] == 1
    assert client.get(f"/api/hcx-plans/{plan.pk}/checks/").json()["ready"] is True
    assert client.get("/api/hcx-network-profiles/").status_code == 200
    assert client.post("/api/hcx-plans/", api_plan(), content_type="application/json").status_code == 403
    assert (
        client.patch(
            f"/api/hcx-plans/{plan.pk}/", {"notes": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/hcx-plans/{plan.pk}/").status_code == 403
    assert (
        client.patch(
            f"/api/hcx-network-profiles/{profile.pk}/", {"mtu": 1400}, content_type="application/json"
        ).status_code
        == 403
    )
    plan.refresh_from_db()
    assert plan.notes == "" and plan.revision == 1


def test_outsiders_get_nothing_from_the_api(client_for, outsider):
    plan = make_plan()
    client = client_for(outsider)
    assert client.get("/api/hcx-plans/").status_code == 403
    assert client.get(f"/api/hcx-plans/{plan.pk}/checks/").status_code == 403


def test_the_api_list_queries_do_not_grow_with_plans(client_for, planner, django_assert_max_num_queries):
    make_plan("A")
    client = client_for(planner)
    with django_assert_max_num_queries(12) as few:
        client.get("/api/hcx-plans/")
    for name in "BCDEF":
        make_plan(name)
    with django_assert_max_num_queries(len(few)):
        assert client.get("/api/hcx-plans/").json()["count"] == 6


def test_the_plan_pages_speak_to_people_not_to_developers(client_for, stakeholder):
    """No formula (`ceil(17/8)`) and no file of the repository (`hcx-wire.md`) on the plan's pages: the
    ports name the documents a reader can look up, the appliance count is said in words."""
    plan = make_plan(networks=17)
    client = client_for(stakeholder)
    for path in (f"/hcx/plans/{plan.pk}/", f"/hcx/plans/{plan.pk}/export/"):
        page = client.get(path).content.decode()
        for developer_word in ("ceil(", ".md", "§", "IX 1"):
            assert developer_word not in page, (path, developer_word)
        assert "Broadcom KB 440117" in page and "Azure VMware Solution docs: Configure VMware HCX" in page
