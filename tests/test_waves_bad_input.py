"""Odd input to every wave endpoint and page gets an answer a client can act on (4xx), never a server error."""

import pytest

from migrations_app.models import NetworkMapping
from tests.factories import make_estate, make_group, make_target_cluster, make_wave

pytestmark = pytest.mark.django_db

BODIES = [
    {},
    {"name": "x" * 500},
    {"revision": "abc"},
    {"max_tb": "1e99"},
    {"max_tb": "NaN"},
    {"window_start": "garbage"},
    {"vms": ["a"]},
    {"vms": [10**20]},
    {"groups": [-1]},
    {"wave": 99999, "vm": 99999},
    {"site": "x"},
    {"target_cluster": 99999},
    {"hosts": 10**9},
    {"failures_to_tolerate": -1},
    {"migration_type": "x"},
    {"sequence": -5},
    {"max_vms": 10**12},
    {"datastores": "notalist"},
    {"source": None},
    {"target_name": ""},
    {"name": "ok", "window_start": "2025-01-01T00:00:00Z", "window_end": "2025-01-01T00:00:00Z"},
    {"vms": [], "migration_type": "rav"},
    {"file": "x"},
    {"wave": 10**20, "vm": 10**20, "source": 10**20, "site": 10**20, "target_cluster": 10**20},
]


def test_no_input_makes_a_server_error(client_for, planner):
    estate = make_estate(vms=5, networks=2)
    cluster = make_target_cluster()
    wave = make_wave("W", estate.vms[:3], target_cluster=cluster)
    make_group("g", estate.vms[:2])
    m = NetworkMapping.objects.create(wave=wave, source=estate.networks[0], target_name="x")
    item = wave.items.first()
    client = client_for(planner)
    urls = [
        "/api/waves/",
        f"/api/waves/{wave.pk}/",
        f"/api/waves/{wave.pk}/add-groups/",
        f"/api/waves/{wave.pk}/add-vms/",
        f"/api/waves/{wave.pk}/remove/",
        f"/api/waves/{wave.pk}/migration-type/",
        "/api/target-clusters/",
        f"/api/target-clusters/{cluster.pk}/",
        "/api/wave-items/",
        f"/api/wave-items/{item.pk}/",
        "/api/network-mappings/",
        f"/api/network-mappings/{m.pk}/",
        "/api/waves/plan-import/",
    ]
    bad = []  # (method, url, body, status) of every answer >= 500
    for url in urls:
        for body in BODIES:
            for method in ("post", "put", "patch"):
                r = getattr(client, method)(url, body, content_type="application/json")
                if r.status_code >= 500:
                    bad.append((method, url, body, r.status_code))
    for url in [
        "/api/waves/?status=zzz&ordering=zzz&page=abc",
        "/api/waves/?page_size=999999",
        "/api/wave-items/?migration_type=zz&wave_id=abc",
        "/api/waves/plan-export/?file=exe",
        f"/plan/waves/{wave.pk}/?vm-sort=zzz&vm-page=abc&migration_type=zzz",
        "/plan/waves/?status=zzz&sort=zzz&page=999",
        f"/plan/waves/{wave.pk}/add-vms/?q=%00&cluster_id=abc&page=zz",
        f"/plan/waves/{wave.pk}/add-groups/?q=x&page=-1",
        "/plan/targets/?sku=zz&site_id=abc",
        "/plan/waves/plan/export/?file=zz",
        "/api/waves/100000000000000000000/",
        "/plan/waves/100000000000000000000/",
        "/api/wave-items/?wave_id=100000000000000000000&vm_id=100000000000000000000",
    ]:
        r = client.get(url)
        if r.status_code >= 500:
            bad.append(("get", url, r.status_code))
    for url, data in [
        (f"/plan/waves/{wave.pk}/remove/", {"select": ["x", "999999"]}),
        (f"/plan/waves/{wave.pk}/migration-type/", {"vm": "abc"}),
        (f"/plan/waves/{wave.pk}/add-vms/", {"select": ["9999999"]}),
        (f"/plan/waves/{wave.pk}/add-groups/", {"select": ["9999999"]}),
        (f"/plan/waves/{wave.pk}/mappings/", {"source": "abc"}),
        (f"/plan/waves/{wave.pk}/mappings/99999/delete/", {}),
        (f"/plan/waves/{wave.pk}/edit/", {"revision": "abc", "name": "x"}),
        (
            "/plan/waves/add/",
            {"max_tb": "1e99", "name": "y", "time_zone": "UTC", "migration_type": "bulk", "sequence": "1"},
        ),
    ]:
        r = client.post(url, data)
        if r.status_code >= 500:
            bad.append(("post", url, r.status_code))
    assert bad == []
