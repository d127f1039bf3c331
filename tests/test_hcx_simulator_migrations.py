"""Migrations and mobility groups on the HCX simulator, over HTTP: the phases on the simulated clock,
bytes at the link's rate, switchover windows, the serial vMotion lane, the replication limits,
cancel, validation per VM, faults, paging, and mobility groups."""

import pytest
import requests

from tests.hcx_migrations import GiB, Meshed, post
from tests.peers.hcxsim import hcx_login


class Api:
    """The service API as a raw HTTP client sees it."""

    def __init__(self, sim):
        self.sim = sim
        self.session = hcx_login(sim)
        self.base = f"{sim.service_url}/hybridity/api"

    def post(self, path: str, body: dict, **kwargs) -> requests.Response:
        response = self.session.post(f"{self.base}{path}", json=body, timeout=30, **kwargs)
        if response.status_code == 401:  # the session idled out while the test skipped hours ahead
            self.session = hcx_login(self.sim)
            response = self.session.post(f"{self.base}{path}", json=body, timeout=30, **kwargs)
        return response

    def start(self, *specs) -> list[str]:
        """Start `specs` as HCX does: a mobility group created with them, then started as a whole."""
        self.groups = getattr(self, "groups", 0) + 1
        created = self.post(
            "/mobility/groups",
            {"items": [{"name": f"group-{self.groups}", "groupDefaults": {}, "migrations": list(specs)}]},
        )
        assert created.status_code == 202, created.text
        group = created.json()["items"][0]["migrationGroupId"]
        response = self.post("/mobility/groups/start", {"items": [{"migrationGroupId": group}]})
        assert response.status_code == 202, response.text
        return [i["migrationId"] for i in response.json()["items"]]

    def cancel(self, *ids, **extra) -> requests.Response:
        items = [{"migrationId": i, "migrationGroupId": self.get(i)["migrationGroupId"]} for i in ids]
        return self.post("/mobility/migrations/forceCancel", {"items": items, **extra})

    def query(self, page_size: int = 500, offset: int = 0, **flt) -> dict:
        response = self.post(
            "/migrations",
            {"filter": flt, "options": {"compat": 2.1}, "paging": {"pageSize": page_size, "offset": offset}},
            params={"action": "query"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, migration_id: str) -> dict:
        return self.query(migrationId=[migration_id])["data"]["items"][0]

    def states(self, *ids) -> list[str]:
        by_id = {i["migrationId"]: i["state"] for i in self.query(migrationId=list(ids))["data"]["items"]}
        return [by_id[i] for i in ids]

    def schedule(self, migration_id: str, **switchover) -> requests.Response:
        group = self.get(migration_id)["migrationGroupId"]
        return self.post(
            f"/mobility/groups/{group}/schedule",
            {"migrations": [{"migrationId": migration_id, "schedule": {"switchover": switchover}}]},
        )


def refusals(response: requests.Response) -> list[tuple[str, list[str]]]:
    return [(m["id"], [e["code"] for e in m["errors"]]) for m in response.json()["errors"]["migrations"]]


@pytest.fixture
def meshed(hcxsim):
    # These tests follow the simulator's own model, so it names its phases and sends its own figures
    # (variants.py: running_state, percent_complete, progress_extras).
    return Meshed(
        hcxsim,
        variants={"running_state": "named", "percent_complete": "present", "progress_extras": "present"},
    )


@pytest.fixture
def api(meshed, hcxsim):
    return Api(hcxsim)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


# --- the starting point ----------------------------------------------------------------------------


def test_the_meshed_preset_has_a_deployed_mesh_with_every_migration_service_and_an_extended_network(
    meshed, hcxsim
):
    state = hcxsim.control.state()

    mesh = next(m for m in state["serviceMeshes"] if m["serviceMeshId"] == meshed.mesh_id)
    assert mesh["state"] == "COMMITTED"
    assert {"BULK_MIGRATION", "VMOTION", "RAV"} <= {s["name"] for s in mesh["services"]}
    assert [
        (e["sourceNetwork"]["networkName"], e["operationStatus"]["state"]) for e in state["l2Extensions"]
    ] == [("App-VLAN101", "EXTENDED")]


# --- phases, bytes, windows ---------------------------------------------------------------------


def test_a_bulk_migration_reaches_each_phase_as_the_clock_advances(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})  # 86 s at 1 Gbps
    [mid] = api.start(meshed.spec("vm-1"))

    seen = [api.get(mid)["state"]]
    for seconds in (31, 90, 300, 60):
        hcxsim.control.advance(seconds)
        seen.append(api.get(mid)["state"])

    item = api.get(mid)
    assert seen == ["VALIDATING", "INITIAL_SYNC", "SWITCHOVER", "CLEANUP", "MIGRATION_COMPLETE"]
    assert [e["status"] for e in item["progress"]["log"]] == ["DRAFT", *seen]  # created in its group first
    assert item["progress"]["total"] == {"value": 10 * GiB, "bytesTransferred": 10 * GiB}
    assert (item["progress"]["percentComplete"], item["progress"]["isDone"], item["progress"]["didFail"]) == (
        100,
        True,
        False,
    )
    assert item["entity"] == {"entityId": "vm-1", "entityType": "VirtualMachine", "entityName": "app-1"}


def copy_rate(api, hcxsim, mid: str, seconds: float) -> float:
    """Bytes per simulated second between two reads `seconds` apart (read off HCX's own clock)."""
    first = api.query(migrationId=[mid])
    hcxsim.control.advance(seconds)
    second = api.query(migrationId=[mid])
    copied = (
        second["data"]["items"][0]["progress"]["total"]["bytesTransferred"]
        - first["data"]["items"][0]["progress"]["total"]["bytesTransferred"]
    )
    return copied / ((second["time"] - first["time"]) / 1000)


def test_bytes_grow_with_time_at_the_rate_of_the_link_shared_by_the_copies_and_capped_per_migration(
    meshed, api, hcxsim
):
    meshed.settings(linkMbps=400)
    meshed.register({"id": "vm-1", "diskBytes": 500 * GiB}, {"id": "vm-2", "diskBytes": 500 * GiB})
    [first] = api.start(meshed.spec("vm-1"))
    hcxsim.control.advance(31)

    alone = copy_rate(api, hcxsim, first, 100)
    [second] = api.start(meshed.spec("vm-2"))
    hcxsim.control.advance(31)
    shared = copy_rate(api, hcxsim, first, 100)
    meshed.settings(linkMbps=10000)
    capped = copy_rate(api, hcxsim, first, 100)

    assert alone == pytest.approx(400 * 125_000, rel=0.01)
    assert shared == pytest.approx(200 * 125_000, rel=0.01)
    assert capped == pytest.approx(1000 * 125_000, rel=0.01)  # 1 Gbps per migration, whatever the link
    assert [api.get(m)["progress"]["throughputMbps"] for m in (first, second)] == [1000, 1000]


def test_a_bulk_migration_delta_syncs_until_its_switchover_window_opens(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    window = meshed.at(4 * 3600)
    start = window.timestamp()
    [mid] = api.start(meshed.spec("vm-1", switchover_start=window, switchover_end=meshed.at(6 * 3600)))
    hcxsim.control.advance(31 + 90)

    waiting = api.get(mid)
    hcxsim.control.advance(2 * 3600)  # the first delta sync, two hours after the initial sync
    delta = api.get(mid)
    hcxsim.control.advance(200)
    after_delta = api.get(mid)
    hcxsim.control.advance(start - meshed.now() + 1)
    at_window = api.get(mid)

    assert waiting["state"] == "WAITING_FOR_SWITCHOVER"
    assert waiting["progress"]["state"]["isWaitingForMaintWindow"] == 1
    assert waiting["progress"]["percentComplete"] == 90
    assert waiting["switchoverParams"]["schedule"]["startTime"] == ms(start)
    assert delta["state"] == "DELTA_SYNC"
    assert (
        after_delta["state"] == "WAITING_FOR_SWITCHOVER"
        and "1 delta sync done" in after_delta["progress"]["message"]
    )
    assert at_window["state"] == "SWITCHOVER"


def test_switchover_now_starts_a_waiting_migration_at_once(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    [mid] = api.start(meshed.spec("vm-1", migration_type="RAV", switchover_start=meshed.at(86400)))
    hcxsim.control.advance(31 + 90)
    assert api.get(mid)["state"] == "WAITING_FOR_SWITCHOVER"

    response = api.schedule(mid, clearSchedule=True, startTime=0, expiryTime=0)

    assert response.status_code == 200, response.text
    assert response.json()["affectedSwitchoverScheduleCount"] == 1 and refusals(response) == []
    item = api.get(mid)
    assert item["state"] == "SWITCHOVER"
    assert item["switchoverParams"]["schedule"] == {"startTime": 0, "expiryTime": 0}


def test_a_missed_window_waits_for_a_new_one_and_a_moved_window_is_kept(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    [mid] = api.start(meshed.spec("vm-1", switchover_start=meshed.at(10), switchover_end=meshed.at(20)))
    hcxsim.control.advance(31 + 90)  # the copy ends after the window did

    missed = api.get(mid)
    new_start = meshed.now() + 600
    moved = api.schedule(mid, startTime=ms(new_start), expiryTime=ms(new_start + 3600))
    before = api.get(mid)
    hcxsim.control.advance(601)

    assert (
        missed["state"] == "WAITING_FOR_SWITCHOVER" and "set a new schedule" in missed["progress"]["message"]
    )
    assert missed["progress"]["isRescheduleAllowed"] is True
    assert moved.status_code == 200 and refusals(moved) == []
    assert before["state"] == "WAITING_FOR_SWITCHOVER"
    assert before["switchoverParams"]["schedule"]["startTime"] == ms(new_start)
    assert api.get(mid)["state"] == "SWITCHOVER"


def test_a_vmotion_cannot_be_scheduled(meshed, api, hcxsim):
    validated = api.post(
        "/mobility/migrations/validate",
        {"items": [meshed.spec("vm-1", migration_type="vMotion", switchover_start=meshed.at(3600))]},
    )
    [mid] = api.start(meshed.spec("vm-1", migration_type="vMotion"))

    refused = api.schedule(mid, startTime=ms(meshed.now() + 3600))

    assert validated.status_code == 202
    assert [w["code"] for w in validated.json()["items"][0]["warnings"]] == ["SCHEDULE_IGNORED"]
    assert refused.status_code == 200
    assert refusals(refused) == [(mid, ["NOT_SCHEDULABLE"])]


# --- one at a time, and the limits --------------------------------------------------------------------


def test_vmotion_and_cold_migrations_run_one_at_a_time_per_site_pair(meshed, api, hcxsim):
    meshed.register(
        {"id": "vm-1", "diskBytes": 10 * GiB},
        {"id": "vm-2", "diskBytes": 10 * GiB},
        {"id": "vm-3", "diskBytes": 10 * GiB, "powerState": "poweredOff"},
    )
    ids = api.start(
        meshed.spec("vm-1", "vMotion"), meshed.spec("vm-2", "vMotion"), meshed.spec("vm-3", "Cold")
    )
    hcxsim.control.advance(31)

    timeline = [api.states(*ids)]
    for _ in range(12):
        hcxsim.control.advance(60)
        timeline.append(api.states(*ids))

    busy = [sum(s in ("INITIAL_SYNC", "SWITCHOVER") for s in states) for states in timeline]
    assert timeline[0] == ["INITIAL_SYNC", "QUEUED", "QUEUED"]
    assert max(busy) == 1
    assert timeline[-1] == ["MIGRATION_COMPLETE"] * 3
    queued = api.query(migrationId=ids)["data"]["items"]  # the log keeps why it waited
    assert "one at a time" in queued[1]["progress"]["log"][2]["message"]


def test_rav_migrations_replicate_together_but_switch_over_one_at_a_time(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB}, {"id": "vm-2", "diskBytes": 10 * GiB})
    ids = api.start(meshed.spec("vm-1", "RAV"), meshed.spec("vm-2", "RAV"))

    hcxsim.control.advance(31)
    copying = api.states(*ids)
    hcxsim.control.advance(180)  # both copies done (each at 500 Mbps)
    first_turn = api.query(migrationId=ids)["data"]["items"]
    hcxsim.control.advance(180)
    second_turn = api.states(*ids)

    assert copying == ["INITIAL_SYNC", "INITIAL_SYNC"]
    assert [i["state"] for i in first_turn] == ["SWITCHOVER", "WAITING_FOR_SWITCHOVER"]
    assert "RAV switchovers run one at a time" in first_turn[1]["progress"]["message"]
    assert second_turn == ["CLEANUP", "SWITCHOVER"]


def test_the_201st_bulk_migration_in_a_mesh_queues_until_a_replication_ends(meshed, api, hcxsim):
    meshed.settings(defaultVmBytes=GiB)
    ids = api.start(*[meshed.spec(f"vm-{n}") for n in range(201)])
    hcxsim.control.advance(31)

    copying = api.query(page_size=1, state=["INITIAL_SYNC"])["data"]["paging"]["totalSize"]
    queued = api.query(state=["QUEUED"])["data"]["items"]
    api.cancel(ids[0])

    assert copying == 200
    assert [i["migrationId"] for i in queued] == [ids[200]]
    assert "200 Bulk/RAV replications already run on this service mesh" in queued[0]["progress"]["message"]
    assert queued[0]["progress"]["state"]["isParked"] == 1
    assert api.states(ids[200]) == ["INITIAL_SYNC"]


def test_the_manager_limit_queues_bulk_and_rav_until_it_is_raised(meshed, api, hcxsim):
    meshed.settings(maxReplicationsPerManager=2)
    ids = api.start(meshed.spec("vm-1"), meshed.spec("vm-2", "RAV"), meshed.spec("vm-3"))
    hcxsim.control.advance(31)

    held = api.query(migrationId=ids)["data"]["items"]
    meshed.settings(maxReplicationsPerManager=300)

    assert [i["state"] for i in held] == ["INITIAL_SYNC", "INITIAL_SYNC", "QUEUED"]
    assert "2 Bulk/RAV replications already run on this HCX Manager" in held[2]["progress"]["message"]
    assert api.states(*ids) == ["INITIAL_SYNC"] * 3


# --- cancel ----------------------------------------------------------------------------------------------


def test_a_running_migration_is_cancelled_and_cancelling_it_again_changes_nothing(meshed, api, hcxsim):
    [mid] = api.start(meshed.spec("vm-1"))
    hcxsim.control.advance(100)

    first = api.cancel(mid, removeLongRecoveryData=True)
    again = api.cancel(mid)
    hcxsim.control.advance(3600)

    item = api.get(mid)
    assert (first.status_code, again.status_code) == (202, 202)
    assert item["state"] == "MIGRATION_CANCELLED"
    assert item["progress"]["isCancelled"] is True and item["progress"]["state"]["isCanceled"] == 1
    assert 0 < item["progress"]["total"]["bytesTransferred"] < item["progress"]["total"]["value"]
    assert [e["status"] for e in item["progress"]["log"]][-1] == "MIGRATION_CANCELLED"


def test_a_migration_in_its_switchover_cannot_be_cancelled_and_the_batch_is_left_alone(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    ids = api.start(meshed.spec("vm-1"), meshed.spec("vm-2"))
    hcxsim.control.advance(31 + 180)  # vm-1 has switched over; vm-2 (40 GiB) still copies

    response = api.cancel(*ids)

    assert response.status_code == 400
    errors = [[e["code"] for e in i["errors"]] for i in response.json()["items"]]
    assert errors == [["CANNOT_CANCEL"], []]
    assert api.states(*ids) == ["SWITCHOVER", "INITIAL_SYNC"]


# --- validation per VM ---------------------------------------------------------------------------------


def test_validation_answers_per_vm_and_a_start_with_any_error_starts_nothing(meshed, api):
    meshed.register(
        {"id": "vm-old", "hardwareVersion": 8},
        {"id": "vm-off", "powerState": "poweredOff"},
        {"id": "vm-iso", "isoAttached": True},
        {"id": "vm-snap", "snapshots": 2},
        {"name": "app-named", "toolsRunning": False},
    )
    specs = [
        meshed.spec("vm-old", "vMotion"),
        meshed.spec("vm-off", "vMotion"),
        meshed.spec("vm-iso", "Bulk"),
        meshed.spec("vm-snap", "RAV"),
        meshed.spec("vm-named"),
        meshed.spec("vm-ok", "Cold"),
    ]

    validated = api.post("/mobility/migrations/validate", {"items": specs})
    started = api.post("/mobility/migrations/start", {"items": specs})

    assert validated.status_code == 400
    per_vm = {
        i["entityId"]: ([e["code"] for e in i["errors"]], [w["code"] for w in i["warnings"]])
        for i in validated.json()["items"]
    }
    assert per_vm == {
        "vm-old": (["HW_VERSION"], []),
        "vm-off": (["POWERED_OFF"], []),
        "vm-iso": (["ISO_ATTACHED"], []),
        "vm-snap": ([], ["SNAPSHOTS"]),
        "vm-named": ([], ["TOOLS_NOT_RUNNING"]),
        "vm-ok": (["POWERED_ON"], []),
    }
    assert "hardware version 8" in validated.json()["items"][0]["errors"][0]["message"]
    assert started.status_code == 400
    assert api.query()["data"]["paging"]["totalSize"] == 0


def test_the_options_that_fix_a_vm_make_it_pass(meshed, api):
    meshed.register({"id": "vm-iso", "isoAttached": True, "snapshots": 1})

    response = api.post(
        "/mobility/migrations/validate",
        {"items": [meshed.spec("vm-iso", "vMotion", remove_isos=True, remove_snapshots=True)]},
    )

    assert response.status_code == 202
    assert response.json()["items"][0]["errors"] == response.json()["items"][0]["warnings"] == []


def test_a_migration_without_target_or_site_or_twice_in_a_batch_is_refused_per_vm(meshed, api):
    bad_site = meshed.spec("vm-2")
    bad_site["destination"]["endpointId"] = "not-a-site"
    no_target = meshed.spec("vm-3", placement=[], datastore_id="")

    response = api.post(
        "/mobility/migrations/validate",
        {"items": [meshed.spec("vm-1"), meshed.spec("vm-1"), bad_site, no_target]},
    )

    codes = [[e["code"] for e in i["errors"]] for i in response.json()["items"]]
    assert codes == [
        [],
        ["DUPLICATE_VM"],
        ["DESTINATION_INVALID"],
        ["PLACEMENT_REQUIRED", "STORAGE_REQUIRED"],
    ]


def test_a_vm_that_is_already_migrating_cannot_be_started_again(meshed, api):
    [first] = api.start(meshed.spec("vm-1"))

    response = api.post("/mobility/migrations/start", {"items": [meshed.spec("vm-1")]})

    assert response.status_code == 400
    assert response.json()["items"][0]["errors"][0]["code"] == "MIGRATION_IN_PROGRESS"
    assert first in response.json()["items"][0]["errors"][0]["message"]


# --- faults -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["VALIDATING", "INITIAL_SYNC", "DELTA_SYNC", "SWITCHOVER", "CLEANUP"])
def test_a_migration_fails_in_the_phase_a_fault_names(meshed, api, hcxsim, phase):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    hcxsim.control.fault("migration_fail", vm="app-1", phase=phase, message="Disk I/O error on the target")
    [mid] = api.start(meshed.spec("vm-1", switchover_start=meshed.at(3 * 3600)))

    for _ in range(10):
        if api.get(mid)["progress"]["isDone"]:
            break
        hcxsim.control.advance(1800)

    item = api.get(mid)
    assert item["state"] == "MIGRATION_FAILED"
    assert item["progress"]["didFail"] is True
    assert item["progress"]["error"]["message"] == "Disk I/O error on the target"
    assert f"failed during {phase}" in item["progress"]["message"]
    if phase == "INITIAL_SYNC":  # it failed half-way through the copy
        assert item["progress"]["total"]["bytesTransferred"] == pytest.approx(5 * GiB, rel=0.01)


def test_a_fault_without_a_vm_fails_the_next_migrations_only(meshed, api, hcxsim):
    hcxsim.control.fault("migration_fail", phase="SWITCHOVER", times=2)
    ids = api.start(*[meshed.spec(f"vm-{n}") for n in range(3)])

    hcxsim.control.advance(4 * 3600)

    assert api.states(*ids) == ["MIGRATION_FAILED", "MIGRATION_FAILED", "MIGRATION_COMPLETE"]


def test_a_validation_fault_gives_one_vm_an_error_or_a_warning(meshed, api, hcxsim):
    hcxsim.control.fault("validation_error", vm="vm-2", message="Target datastore has no room")
    hcxsim.control.fault("validation_error", vm="vm-3", severity="warning", message="Tools are out of date")

    response = api.post(
        "/mobility/migrations/validate", {"items": [meshed.spec(f"vm-{n}") for n in (1, 2, 3)]}
    )

    assert response.status_code == 400
    assert [(i["errors"], i["warnings"]) for i in response.json()["items"]] == [
        ([], []),
        ([{"code": "SIMULATED", "message": "Target datastore has no room"}], []),
        ([], [{"code": "SIMULATED", "message": "Tools are out of date"}]),
    ]
    assert (
        response.json()["errors"][0]["text"]
        == "1 of 3 migrations failed: app-2: Target datastore has no room"
    )


def test_a_refused_switchover_changes_no_schedule(meshed, api, hcxsim):
    window = meshed.at(86400)
    [mid] = api.start(meshed.spec("vm-1", switchover_start=window))
    hcxsim.control.fault("switchover_refuse", vm="vm-1", message="Switchover refused: the VM is locked")

    response = api.schedule(mid, clearSchedule=True)

    assert response.status_code == 200
    assert response.json()["errors"]["migrations"] == [
        {
            "id": mid,
            "errors": [{"code": "SWITCHOVER_REFUSED", "message": "Switchover refused: the VM is locked"}],
        }
    ]
    assert response.json()["affectedSwitchoverScheduleCount"] == 0
    assert api.get(mid)["switchoverParams"]["schedule"]["startTime"] == ms(window.timestamp())


def test_a_seed_checkpoint_lets_the_next_try_reuse_the_copied_bytes(meshed, api, hcxsim):
    meshed.register({"id": "vm-1", "diskBytes": 10 * GiB})
    hcxsim.control.fault("migration_fail", vm="vm-1", phase="INITIAL_SYNC", times=1)
    [failed] = api.start(meshed.spec("vm-1", seed_checkpoint=True))
    hcxsim.control.advance(31 + 90)

    [retried] = api.start(meshed.spec("vm-1", seed_checkpoint=True))

    assert api.get(failed)["state"] == "MIGRATION_FAILED"
    progress = api.get(retried)["progress"]
    assert progress["seedBytesReused"] == pytest.approx(5 * GiB, rel=0.01)
    hcxsim.control.advance(31)
    assert "reusing" in api.get(retried)["progress"]["message"]


# --- paging and filters ---------------------------------------------------------------------------------


def test_a_thousand_migrations_are_read_in_two_pages_filtered_and_all_run_to_the_end(meshed, api, hcxsim):
    meshed.settings(defaultVmBytes=GiB)
    ids = api.start(*[meshed.spec(f"vm-{n}") for n in range(500)])
    ids += api.start(*[meshed.spec(f"vm-{n}") for n in range(500, 1000)])
    group = api.get(ids[999])["migrationGroupId"]
    before = hcxsim.control.state()["migrationQueries"]

    pages = [api.query(page_size=500, offset=offset)["data"] for offset in (0, 500)]
    queries = hcxsim.control.state()["migrationQueries"] - before
    in_group = api.query(page_size=10, migrationGroupId=[group])["data"]["paging"]["totalSize"]
    picked = api.query(migrationId=[ids[999], ids[3], "nope"])["data"]["items"]
    hcxsim.control.advance(31)
    queued = api.query(page_size=1, state=["QUEUED"])["data"]["paging"]["totalSize"]
    hcxsim.control.advance(6 * 3600)
    done = api.query(page_size=1, state=["MIGRATION_COMPLETE"])["data"]["paging"]["totalSize"]

    assert [p["paging"] for p in pages] == [
        {"totalSize": 1000, "offset": 0, "pageSize": 500},
        {"totalSize": 1000, "offset": 500, "pageSize": 500},
    ]
    assert [i["migrationId"] for p in pages for i in p["items"]] == ids
    assert queries == 2
    assert in_group == 500
    assert [i["migrationId"] for i in picked] == [ids[3], ids[999]]  # creation order
    assert queued == 1000 - 200  # one mesh: 200 at a time
    assert done == 1000


def test_a_page_larger_than_500_is_cut_to_500(meshed, api):
    assert api.query(page_size=5000)["data"]["paging"]["pageSize"] == 500


# --- mobility groups ------------------------------------------------------------------------------------------


def listed_group(api, group_id) -> dict | None:
    """A group read from `queryMobilityGroups` as the client reads it: no source reads one by id
    (hcx-wire.md §6)."""
    answer = api.post(
        "/migration/queryMobilityGroups", {"filter": {"skipDrafts": False}, "options": {"compat": 2.1}}
    )
    return next(
        (g for g in answer.json()["data"]["items"] if (g.get("id") or g.get("migrationGroupId")) == group_id),
        None,
    )


def test_mobility_groups_are_created_listed_read_and_deleted(meshed, api, hcxsim):
    created = api.post(
        "/mobility/groups",
        {"items": [{"name": "wave-1", "tags": ["app"], "groupDefaults": {"servicemeshId": meshed.mesh_id}}]},
    )
    group_id = created.json()["items"][0]["migrationGroupId"]
    duplicate = api.post("/mobility/groups", {"items": [{"name": "wave-1"}]})
    listed = api.post(
        "/migration/queryMobilityGroups", {"filter": {"skipDrafts": False}, "options": {"compat": 2.1}}
    )
    read = listed_group(api, group_id)
    deleted = api.post("/mobility/groups/delete", {"items": [{"migrationGroupId": group_id}]})

    assert created.status_code == 202
    assert duplicate.status_code == 400
    assert duplicate.json()["items"][0]["errors"][0]["message"] == "Mobility group with same name exist."
    assert [(g["id"], g["entityName"], g["state"]) for g in listed.json()["data"]["items"]] == [
        (group_id, "wave-1", "DRAFT")
    ]
    assert read["groupDefaults"] == {"servicemeshId": meshed.mesh_id}
    assert deleted.status_code == 200
    assert listed_group(api, group_id) is None


def group_with_drafts(api, meshed, name: str) -> tuple[str, list[str]]:
    defaults = {
        k: v for k, v in meshed.spec("x").items() if k in ("source", "destination", "placement", "storage")
    }
    created = api.post(
        "/mobility/groups",
        {
            "items": [
                {
                    "name": name,
                    "groupDefaults": {"migrationType": "vSphereReplication", **defaults},
                    "migrations": [
                        {"entity": {"entityId": f"vm-{n}", "entityName": f"app-{n}"}, "operationType": "ADD"}
                        for n in (1, 2)
                    ],
                }
            ]
        },
    ).json()["items"][0]
    return created["migrationGroupId"], [m["migrationId"] for m in created["migrations"]]


def test_a_group_created_with_its_migrations_starts_as_a_whole_and_is_archived_once_over(meshed, api, hcxsim):
    group_id, drafts = group_with_drafts(api, meshed, "wave-2")

    as_drafts = api.query(draftsOnly=True, migrationGroupId=[group_id])["data"]["items"]
    started = api.post("/mobility/groups/start", {"items": [{"migrationGroupId": group_id}]})
    again = api.post("/mobility/groups/start", {"items": [{"migrationGroupId": group_id}]})
    busy = api.post("/mobility/groups/archive", {"items": [{"migrationGroupId": group_id}]})
    group = listed_group(api, group_id)
    hcxsim.control.advance(6 * 3600)
    archived = api.post("/mobility/groups/archive", {"items": [{"migrationGroupId": group_id}]})
    listed = api.post("/migration/queryMobilityGroups", {"filter": {}, "options": {"compat": 2.1}})
    with_archived = api.post("/migration/queryMobilityGroups", {"filter": {"includeArchived": True}})

    assert [m["state"] for m in as_drafts] == ["DRAFT", "DRAFT"]
    assert started.status_code == 202 and [i["migrationId"] for i in started.json()["items"]] == drafts
    assert again.status_code == 400 and again.json()["items"][0]["errors"][0]["code"] == "ALREADY_STARTED"
    assert busy.status_code == 403
    assert group["state"] == "MIGRATING" and group["summary"]["running"] == 2
    assert archived.status_code == 202
    assert listed.json()["data"]["items"] == []
    assert [g["summary"]["isArchived"] for g in with_archived.json()["data"]["items"]] == [True]


def test_a_group_s_draft_migrations_start_by_id_and_the_group_cannot_go_while_they_run(meshed, api, hcxsim):
    group_id, drafts = group_with_drafts(api, meshed, "wave-2")

    started = api.post("/mobility/migrations/start", {"items": [{"migrationId": d} for d in drafts]})
    again = api.post("/mobility/migrations/start", {"items": [{"migrationId": drafts[0]}]})
    refused = api.post("/mobility/groups/delete", {"items": [{"migrationGroupId": group_id}]})

    assert [i["migrationId"] for i in started.json()["items"]] == drafts
    assert api.states(*drafts) == ["VALIDATING", "VALIDATING"]
    assert again.json()["items"][0]["errors"][0]["code"] == "ALREADY_STARTED"
    assert refused.status_code == 400 and "2 migration(s) in progress" in refused.json()["errors"][0]["text"]


def test_a_migration_without_its_vcenter_or_with_unnamed_networks_is_refused(meshed, api):
    no_vcenter = meshed.spec("vm-1")
    del no_vcenter["source"]["computeResourceId"]
    mapping = {"srcNetworkHref": "dvportgroup-41", "destNetworkId": "/infra/segments/seg-1"}
    by_any_id = meshed.spec("vm-2", network_mappings=[mapping])
    unnamed = meshed.spec("vm-3", network_mappings=[{"srcNetworkName": "App", "destNetworkName": "seg-1"}])

    response = api.post("/mobility/migrations/validate", {"items": [no_vcenter, by_any_id, unnamed]})

    assert [[e["code"] for e in i["errors"]] for i in response.json()["items"]] == [
        ["COMPUTE_RESOURCE_REQUIRED"],
        [],
        ["NETWORK_MAPPING_INVALID", "NETWORK_MAPPING_INVALID"],
    ]


def test_a_migration_cannot_join_a_group_by_naming_it_at_start(meshed, api):
    group_id, _ = group_with_drafts(api, meshed, "wave-2")

    response = api.post(
        "/mobility/migrations/start", {"items": [{**meshed.spec("vm-9"), "migrationGroupId": group_id}]}
    )

    assert response.status_code == 400
    assert [(i["entityId"], [e["code"] for e in i["errors"]]) for i in response.json()["items"]] == [
        ("vm-9", ["GROUP_NOT_ALLOWED"])
    ]


def test_switchover_now_as_a_cleared_schedule_with_zero_times_is_taken(meshed, api, hcxsim):
    [mid] = api.start(meshed.spec("vm-1", switchover_start=meshed.at(86400)))

    group = api.get(mid)["migrationGroupId"]
    response = api.post(
        f"/mobility/groups/{group}/schedule",
        {
            "mobilityGroupDefaults": {"transfer": {}, "switchover": {}},
            "migrations": [
                {
                    "migrationId": mid,
                    "schedule": {
                        "transfer": {"startTime": 0, "expiryTime": 0, "isInheritedFromGroupDefaults": False},
                        "switchover": {
                            "startTime": 0,
                            "expiryTime": 0,
                            "clearSchedule": True,
                            "isInheritedFromGroupDefaults": False,
                        },
                    },
                }
            ],
        },
    )
    unreadable = api.post(f"/mobility/groups/{group}/schedule", {"migrations": "all"})

    assert (response.status_code, response.json()["affectedSwitchoverScheduleCount"]) == (200, 1)
    assert api.get(mid)["switchoverParams"]["schedule"] == {"startTime": 0, "expiryTime": 0}
    assert (unreadable.status_code, unreadable.content) == (400, b"")


# --- the test controls --------------------------------------------------------------------------------------


def test_bad_vm_facts_and_bad_settings_are_refused_and_change_nothing(meshed, hcxsim):
    with pytest.raises(requests.HTTPError):
        post(hcxsim, "/vms", {"items": [{"id": "vm-1", "diskBytes": -1}]})
    with pytest.raises(requests.HTTPError):
        post(hcxsim, "/migration-settings", {"linkMbps": 100, "maxReplicationsPerMesh": 0})

    vms = requests.get(f"{hcxsim.service_url}/__sim__/vms", timeout=10).json()["items"]
    assert vms == []
    assert hcxsim.control.state()["migrationSettings"]["linkMbps"] == 1000
