"""The dependency graph: the JSON the API gives, the SVG the pages draw, and the node cap."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from migrations_app.dependencies.graph import GraphFilter, build
from migrations_app.dependencies.svg import render
from tests.factories import make_dependency, make_estate, make_group, make_vcenter, make_vm

API = reverse("api:dependency-graph-list")
PAGE = reverse("migrations_app:dependency_graph")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def estate(db):
    vc = make_vcenter()
    vm = {n: make_vm(vc, n) for n in ("web01", "db01", "erp01", "quiet01", "<script>")}
    crm = make_group("CRM", [vm["web01"], vm["db01"], vm["quiet01"]])
    erp = make_group("ERP", [vm["erp01"]])
    make_dependency(vm["web01"], vm["db01"], 1433, seen=12)
    make_dependency(vm["web01"], vm["db01"], 1434, seen=3)
    make_dependency(vm["db01"], vm["erp01"], 443, seen=5)
    make_dependency(vm["erp01"], "ldap.partner.example", 636)
    make_dependency(vm["<script>"], "198.51.100.3", 80)
    return {"vm": vm, "crm": crm, "erp": erp}


@pytest.mark.django_db
def test_the_json_has_nodes_coloured_by_group_and_edges_with_their_ports(client_for, stakeholder, estate):
    data = client_for(stakeholder).get(API, {"group": estate["crm"].pk}).json()
    nodes = {n["label"]: n for n in data["nodes"]}
    # the group's VMs (also one with no connection) and its direct neighbours
    assert set(nodes) == {"web01", "db01", "quiet01", "erp01"}
    assert nodes["web01"]["group_name"] == "CRM" and nodes["erp01"]["group_name"] == "ERP"
    by_id = {n["id"]: n["label"] for n in data["nodes"]}
    edges = {(by_id[e["source"]], by_id[e["target"]]): (sorted(e["ports"]), e["seen"]) for e in data["edges"]}
    assert edges == {("web01", "db01"): (["1433/tcp", "1434/tcp"], 15), ("db01", "erp01"): (["443/tcp"], 5)}
    assert data["truncated"] is False and {g["name"] for g in data["groups"]} == {"CRM", "ERP"}


@pytest.mark.django_db
def test_the_estate_json_keeps_external_endpoints_unless_told(client_for, engineer, estate):
    client = client_for(engineer)
    kinds = {n["label"]: n["kind"] for n in client.get(API).json()["nodes"]}
    assert kinds["ldap.partner.example"] == "external" and kinds["198.51.100.3"] == "external"
    labels = {n["label"] for n in client.get(API, {"externals": "false"}).json()["nodes"]}
    assert "ldap.partner.example" not in labels and "web01" in labels


@pytest.mark.django_db
def test_the_svg_is_well_formed_escaped_and_titled(estate):
    graph = build(GraphFilter())
    drawing = str(render(graph))
    root = ET.fromstring(drawing)  # well-formed XML, so "<script>" was escaped
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "web01 → db01: 1433/tcp, 1434/tcp (seen 15 times)" in titles
    assert "ldap.partner.example · external (not in the inventory)" in titles
    assert "&lt;script&gt;" in drawing and "<script>" not in drawing
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert reverse("inventory:virtualmachine", args=[estate["vm"]["web01"].pk]) in links


@pytest.mark.django_db
def test_the_estate_graph_is_capped_with_a_message(client_for, planner, settings):
    settings.DEPENDENCIES = {**settings.DEPENDENCIES, "GRAPH_MAX_NODES": 20}
    estate = make_estate(60, devices=False)
    hub = estate.vms[0]
    for vm in estate.vms[1:]:
        make_dependency(vm, hub, 443)
    client = client_for(planner)
    data = client.get(API).json()
    assert data["truncated"] is True and data["total_nodes"] == 60 and data["shown_nodes"] == 20
    assert hub.name in {n["label"] for n in data["nodes"]}  # the most connected stay
    page = client.get(PAGE).content.decode()
    assert "This graph has 60 nodes; the 20 most connected are drawn." in page


@pytest.mark.django_db
def test_the_graph_page_filters_by_group_with_bounded_queries(
    client_for, stakeholder, estate, django_assert_max_num_queries
):
    client = client_for(stakeholder)
    with django_assert_max_num_queries(15):
        page = client.get(PAGE, {"group": estate["erp"].pk}).content.decode()
    assert "erp01" in page and "ldap.partner.example" in page and "quiet01" not in page
    assert "<svg" in page and "not in a group" not in page


@pytest.mark.django_db
def test_bad_graph_filters_are_refused_with_a_message(client_for, planner, estate):
    client = client_for(planner)
    assert client.get(API, {"group": "x"}).status_code == 400
    assert client.get(API, {"min_seen": "0"}).json() == {"min_seen": ["Give a whole number of 1 or more."]}
    page = client.get(PAGE, {"ignore_ports": "http"}).content.decode()
    assert "&quot;http&quot; is not a port number (1-65535)." in page


@pytest.mark.django_db
def test_an_empty_graph_says_so(client_for, planner):
    page = client_for(planner).get(PAGE).content.decode()
    assert "No connections to draw" in page and "import connection data" in page


@pytest.mark.django_db
def test_outsiders_get_no_graph(client_for, outsider):
    assert client_for(outsider).get(API).status_code == 403


@pytest.mark.django_db
def test_a_layered_layout_puts_callers_left_of_what_they_call(estate):
    from migrations_app.dependencies.layout import layered

    graph = build(GraphFilter(groups=[estate["crm"].pk])).graph
    positions, width, height = layered(graph)
    x = {graph.nodes[n]["label"]: positions[n][0] for n in graph.nodes}
    assert x["web01"] < x["db01"] < x["erp01"]
    assert width > 0 and height > 0


@pytest.mark.django_db
def test_a_vm_with_no_endpoint_yet_still_shows_in_its_group(estate):
    vc = make_vcenter()
    lonely = make_vm(vc, "lonely")
    group = make_group("Lonely", [lonely])
    data = build(GraphFilter(groups=[group.pk])).as_dict()
    assert data["nodes"] == [
        {
            "id": f"vm-{lonely.pk}",
            "kind": "vm",
            "label": "lonely",
            "vm": lonely.pk,
            "ip": None,
            "group": group.pk,
            "group_name": "Lonely",
        }
    ]


@pytest.mark.django_db
def test_the_zoom_and_search_tools_wait_for_their_script(client_for, planner, estate):
    """Without JavaScript the tools would do nothing: they are hidden until static/js/dependency-graph.js
    shows them, and the page loads that script from the portal's own files (no inline script)."""
    page = client_for(planner).get(PAGE).content.decode()
    assert "<div data-graph-tools hidden>" in page
    assert 'src="/static/js/dependency-graph.js"' in page and "<script>" not in page
    assert 'data-label="web01" data-group="CRM"' in page
